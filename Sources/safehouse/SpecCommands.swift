import Flags
import FoundationEssentials
import Linux
import OCI
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// spec takes the global flags as every verb does and needs none of them (Verbs.spec).
struct SpecCommand: Command {
    let bundle: String
    let rootless: Bool

    init(_ a: ParsedArguments) throws {
        bundle = a.value("--bundle")
        rootless = a.isSet("--rootless")
    }

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

func Foundation_exit(_ code: Int32) -> Never { exit(code) }

struct Features: Command {
    let global: GlobalSettings

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
    }

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
