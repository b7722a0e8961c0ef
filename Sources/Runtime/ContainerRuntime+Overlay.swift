import ContainerCore
import FoundationEssentials
import Linux
import OCI
import Sandbox

extension ContainerRuntime {
    /// The bundle as the container is made from it: unchanged for a plain container
    /// (the provider looks at one annotation), or with the spec the sandbox provider
    /// rewrote (a policy laid over an engine's spec). Both backends create from it;
    /// the bundle's config.json stays the engine's.
    func prepared(_ bundle: Bundle, id: String) throws -> Bundle {
        guard let sandboxes else { return bundle }
        var spec = bundle.spec
        let overlay: SandboxOverlay?
        do { overlay = try sandboxes.prepare(&spec, id: id) } catch { throw RuntimeError("\(error)") }
        guard let overlay else { return bundle }
        var rewritten = bundle
        rewritten.spec = spec
        rewritten.configBytes = Array(spec.encodedJSON())
        rewritten.overlay = overlay
        return rewritten
    }
}

extension StateStore {
    /// Where a rewritten container's overlay is kept (SandboxOverlay.fileName).
    package func overlayPath(of id: String) -> String { directory(of: id) + "/" + SandboxOverlay.fileName }

    package func saveOverlay(_ overlay: SandboxOverlay, of id: String) throws {
        let bytes: Data
        do { bytes = try JSONEncoder().encode(overlay) } catch { throw RuntimeError("\(overlayPath(of: id)): \(error)") }
        try Files.writeAtomically(overlayPath(of: id), Array(bytes))
    }

    /// The overlay of a container made from a rewritten spec; nil for any other
    /// (no file). Only sandboxes can have one: callers ask only for those.
    package func loadOverlay(of id: String) throws -> SandboxOverlay? {
        let path = overlayPath(of: id)
        guard Files.exists(path) else { return nil }
        return try stage(path) { try JSONDecoder().decode(SandboxOverlay.self, from: Data(try Files.read(path, limit: 16 << 20))) }
    }
}
