import Warden
#if canImport(Glibc)
import Glibc
#endif

// safehouse-warden: started by `safehouse create` for a sandbox with a policy; see
// Sources/Warden/Warden.swift. A separate executable so that the runtime itself never
// links what the warden will need (SwiftNIO, for the egress proxy).
do {
    let configuration = try Warden.Configuration(arguments: Array(CommandLine.arguments.dropFirst()))
    try Warden(configuration).run()
} catch {
    let line = "safehouse-warden: \(error)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
