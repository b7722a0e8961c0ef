import EgressCA
import Linux
import SandboxInterface
import Warden
#if canImport(Glibc)
import Glibc
#endif

// safehouse-warden: started by `safehouse create` for a sandbox with a policy; see
// Sources/Warden/Warden.swift. A separate executable so that the runtime itself never
// links what the warden will need (SwiftNIO, swift-nio-ssl, swift-certificates).
//
// `safehouse-warden --state-dir DIR --config-fd N`: the configuration is the JSON
// document (WardenConfiguration) the launcher wrote into the pipe N, read to its end.
//
// `safehouse-warden --make-ca HOST...`: prints a new CA for a sandbox whose secrets
// go to HOST... (its certificate, then its key, PEM) on standard output, which is a
// pipe `create` reads (EgressCALauncher): the runtime needs the certificate for the
// sandbox's trust store before the sandbox's root is made, and cannot make one itself.
do {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.first == "--make-ca" {
        guard arguments.count > 1 else { throw WardenError("usage: safehouse-warden --make-ca HOST...") }
        let ca = try EgressCA.make(hosts: Array(arguments.dropFirst()))
        let text = try ca.certificatePEM + "\n" + ca.privateKeyPEM + "\n"
        try FileDescriptor(adopting: 1).write(Array(text.utf8))
        exit(0)
    }
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
