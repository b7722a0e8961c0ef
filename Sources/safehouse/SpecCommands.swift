import ArgumentParser
import FoundationEssentials
import Linux
import OCI
import Runtime
#if canImport(Glibc)
import Glibc
#endif

struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec", abstract: "Write a default config.json into the bundle directory.")
    /// Accepted as on every command: tools pass the global flags (--root, --log) to
    /// every verb, and runc's spec takes them too. spec itself needs none of them.
    @OptionGroup var global: SpecGlobalOptions
    @Option(name: [.customShort("b"), .long], help: "Bundle directory to write config.json into.")
    var bundle: String = "."
    @Flag(help: "Generate a spec for a rootless container (user namespace, no cgroup mount).")
    var rootless = false

    func run() throws {
        let path = (bundle.hasSuffix("/") ? bundle : bundle + "/") + "config.json"
        if Files.exists(path) {
            fail("File \(path) exists. Remove it first")
        }
        let spec = Spec.runcDefault(rootless: rootless)
        do {
            // runc's layout (json.MarshalIndent with tabs, the spec's member order), so
            // that scripts which patch the generated file line by line keep working.
            let text = try OrderedJSON.encode(spec, indent: "\t")
            let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o666)
            try fd.write(Array(text.utf8))
        } catch {
            fail("\(error)")
        }
    }

    private func fail(_ message: String) -> Never {
        let line = "safehouse: \(message)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        Foundation_exit(1)
    }
}

/// The global flags as `spec` takes them: all but --rootless, which is spec's own flag
/// (a rootless config); GlobalArguments drops a global --rootless VALUE for spec, as it
/// means nothing there.
struct SpecGlobalOptions: ParsableArguments {
    @Option(help: "Root directory for container state (unused by spec).") var root: String?
    @Option(help: "Log file (unused by spec).") var log: String?
    @Option(name: .customLong("log-format"), help: "Log format (unused by spec).") var logFormat: String?
    @Flag(help: "Log debug messages (unused by spec).") var debug = false
    @Option(help: "Backend (unused by spec).") var backend: String?
    @Flag(name: .customLong("systemd-cgroup"), help: "systemd cgroup paths (unused by spec).") var systemdCgroup = false
    @Option(help: "Path to criu (unused by spec).") var criu: String?
}

func Foundation_exit(_ code: Int32) -> Never { exit(code) }

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the features this runtime implements, as the runtime-spec features document.")
    @OptionGroup var global: GlobalOptions

    func run() throws {
        // The document of the backend this invocation would create containers on:
        // --backend, else the root's safehouse.conf, else native.
        let backend = try global.perform { runtime in
            try runtime.backendFlag ?? BackendConfig.load(root: runtime.store.root)?.backend ?? .native
        }
        // runc's layout: its member order, four-space indentation (json.MarshalIndent).
        print(try OrderedJSON.encode(RuntimeFeatures.document(for: backend), indent: "    "))
    }
}
