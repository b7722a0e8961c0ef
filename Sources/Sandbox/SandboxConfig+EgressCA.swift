import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

extension SandboxConfig {
    /// Makes the sandbox's CA when its policy has secrets (and so an egress proxy):
    /// at create, before its root is made, which carries the certificate (trustFiles).
    package mutating func makeEgressCA() throws {
        guard !secrets.isEmpty, !networkAllow.isEmpty else { return }
        if let bundle = egressUpstreamCA, access(bundle, R_OK) != 0 {
            throw RuntimeError("network.upstreamCA: \(bundle): \(SystemError.message(for: errno))")
        }
        guard let executable = WardenLauncher.executable(configured: warden) else {
            throw RuntimeError("sandbox: no safehouse-warden next to this executable")
        }
        egressCA = try EgressCALauncher.make(warden: executable, hosts: Array(Set(secrets.flatMap(\.hosts))).sorted())
    }

    /// The trust store files of the ephemeral root's own layer (TrustBundle); none
    /// without a CA.
    package func trustFiles(image: String) -> [String: String] {
        egressCA.map { TrustBundle.files(image: image, certificatePEM: $0.certificatePEM) } ?? [:]
    }
}
