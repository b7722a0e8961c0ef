import Foundation

extension SandboxStore {
    /// The spec of a sandbox whose create carried a policy document: the document goes
    /// to a file in the sandbox's directory and `agent spec --policy FILE` reads it. Not
    /// cached: each document is its own, and the file goes with the sandbox's directory.
    func inlineSpec(_ policy: InlinePolicy, rootfs: String, image: String? = nil, directory: String) throws -> Data {
        let path = try policy.save(in: directory)
        let out = try runtime.spec(policy: path, rootfs: rootfs, image: image)
        guard out.status == 0 else { throw InlinePolicy.error(out.errorLine, path: path) }
        return out.stdout
    }
}
