import Linux
import SandboxInterface
import Warden
#if canImport(Glibc)
import Glibc
#endif

// safehouse-warden: started by `safehouse create` for a sandbox with a policy; see
// Sources/Warden/Warden.swift. A separate executable so that the runtime itself never
// links what the warden will need (SwiftNIO, for the egress proxy).
//
// `safehouse-warden --state-dir DIR --config-fd N`: the configuration is the JSON
// document (WardenConfiguration) the launcher wrote into the pipe N, read to its end.
do {
    let arguments = Array(CommandLine.arguments.dropFirst())
    guard arguments.count == 4, arguments[0] == "--state-dir", arguments[2] == "--config-fd",
          let fd = Int32(arguments[3]), fd >= 3 else {
        throw WardenError("usage: safehouse-warden --state-dir DIR --config-fd FD")
    }
    let pipe = FileDescriptor(adopting: fd)
    let document = try pipe.readAll(path: "configuration pipe")
    pipe.close()
    let configuration = try WardenConfiguration(document: document, stateDirectory: arguments[1])
    try Warden(configuration).run()
} catch {
    let line = "safehouse-warden: \(error)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
