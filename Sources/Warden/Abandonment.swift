import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The end of a sandbox whose foreground owner (`agent run`, or `run` of an annotated
/// bundle) died before it: the warden has stopped it and written its report; the rest
/// of what the owner would have done is `safehouse delete --force`'s: the audit
/// records (from the report: why it ended), the change set, /output given back to its
/// owner (OutputOwnership), and the cgroups, mounts, ephemeral root, state and the
/// generated bundle removed. Spawned, not awaited: delete waits for this warden to exit
/// before it reads the report, so waiting here would make each wait for the other.
enum Abandonment {
    static func removeSandbox(stateDirectory: String) {
        guard let safehouse = Processes.siblingExecutable("safehouse") else { return }
        let root = String(stateDirectory[..<(stateDirectory.lastIndex(of: "/") ?? stateDirectory.startIndex)])
        let id = String(stateDirectory.split(separator: "/").last ?? "")
        guard !root.isEmpty, !id.isEmpty else { return }
        _ = Spawn.start(safehouse, [safehouse, "--root", root, "delete", "--force", id], stdio: .quiet(stderr: nil))
    }
}
