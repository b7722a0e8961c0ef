import Crypto
// FoundationEssentials (Date) and not Foundation: the warden does not carry ICU's data.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SwiftASN1
import X509

/// A server certificate for one host, signed by a sandbox's EgressCA: what the proxy
/// shows a sandboxed client whose TLS it terminates. One key serves every host of a
/// sandbox (the warden makes it once): a leaf is then one signature, well under a
/// millisecond, and the warden keeps each host's for its life.
public struct LeafCertificate: Sendable {
    public let certificate: Certificate

    /// As long as the CA (the warden keeps a host's leaf for the sandbox's life),
    /// from an hour back (a sandbox's clock may lag).

    public static func mint(host: String, key: P256.Signing.PublicKey, by ca: EgressCA, now: Date = Date()) throws -> LeafCertificate {
        guard !host.isEmpty, !host.contains("*") else { throw EgressCAError("\"\(host)\" is not a host name to certify") }
        let publicKey = Certificate.PublicKey(key)
        let subject = try DistinguishedName { CommonName(host) }
        let caKeyID = try ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames([.dnsName(host)])
            if let caKeyID { AuthorityKeyIdentifier(keyIdentifier: caKeyID) }
        }
        let notAfter = ca.certificate.notValidAfter
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now - 3600, notValidAfter: notAfter, issuer: ca.certificate.subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(ca.privateKey))
        return LeafCertificate(certificate: certificate)
    }

    /// DER bytes, as a TLS stack takes them.
    public var der: [UInt8] {
        get throws {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        }
    }
}
