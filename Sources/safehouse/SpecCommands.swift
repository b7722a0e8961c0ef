import Flags
import FoundationEssentials
import Linux
import OCI
import Runtime
#if canImport(Glibc)
import Glibc
#endif

extension Commands {
    /// `spec`: runc's default config.json in the bundle. It takes the global flags as
    /// every verb does and needs none of them (Verbs.spec).
    static func spec(_ a: ParsedArguments) throws {
        let bundle = a.value("--bundle")
        let path = (bundle.hasSuffix("/") ? bundle : bundle + "/") + "config.json"
        if Files.exists(path) {
            agentFail("File \(path) exists. Remove it first")
        }
        let spec = Spec.runcDefault(rootless: a.isSet("--rootless"))
        orFail {
            // runc's layout (json.MarshalIndent with tabs, the spec's member order), so
            // that scripts which patch the generated file line by line keep working.
            let text = try OrderedJSON.encode(spec, indent: "\t")
            let fd = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o666)
            try fd.write(Array(text.utf8))
        }
    }

    /// `features`: the document of the backend this invocation would create
    /// containers on: --backend, else the root's safehouse.conf, else native.
    static func features(_ a: ParsedArguments) throws {
        let backend = try GlobalSettings(a).perform { runtime in
            try runtime.backendFlag ?? BackendConfig.load(root: runtime.store.root)?.backend ?? .native
        }
        // runc's layout: its member order, four-space indentation (json.MarshalIndent).
        print(try OrderedJSON.encode(RuntimeFeatures.document(for: backend), indent: "    "))
    }
}
