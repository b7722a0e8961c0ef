import ContainerCore
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// A sandbox's own CA, for the egress proxy to terminate TLS to its secrets' hosts:
/// made by the warden executable (`safehouse-warden --make-ca HOST...`), because the
/// runtime links no X.509 or elliptic-curve code (start-up cost), and made at create
/// before the sandbox's root, which carries the certificate in its trust store
/// (TrustBundle). The key stays in this process's memory until it goes to the
/// serving warden through its configuration pipe; it is never written.
package struct EgressCAMaterial: Sendable, Equatable {
    package var certificatePEM: String
    package var keyPEM: String
}

package enum EgressCALauncher {
    /// Runs `warden --make-ca hosts...` and reads its certificate and key.
    package static func make(warden: String, hosts: [String]) throws -> EgressCAMaterial {
        let (status, output, line) = try HelperProcess.run(warden, [warden, "--make-ca"] + hosts, keepOutput: true)
        guard status == .exited(0) else {
            throw RuntimeError("secrets: making the sandbox's CA with \(warden): \(status == .exited(127) ? "could not run it" : "exit status \(status.shellCode)"): \(line ?? "no message")")
        }
        return try parse(String(decoding: output, as: UTF8.self))
    }

    /// The warden's output: a certificate, then a key, each a PEM block.
    package static func parse(_ text: String) throws -> EgressCAMaterial {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard lines.first == "-----BEGIN CERTIFICATE-----", let end = lines.firstIndex(of: "-----END CERTIFICATE-----"),
              end + 1 < lines.count, lines[end + 1] == "-----BEGIN PRIVATE KEY-----", lines.last == "-----END PRIVATE KEY-----" else {
            throw RuntimeError("secrets: the warden's CA is not a certificate and a key (PEM)")
        }
        return EgressCAMaterial(certificatePEM: lines[...end].joined(separator: "\n") + "\n",
                                keyPEM: lines[(end + 1)...].joined(separator: "\n") + "\n")
    }
}
