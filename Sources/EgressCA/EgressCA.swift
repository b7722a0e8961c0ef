import Crypto
// FoundationEssentials (Date) and not Foundation: the warden does not carry ICU's data.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SwiftASN1
import X509

/// A sandbox's own certificate authority, for TLS termination at its egress proxy on
/// the hosts its secrets go to: made fresh for each sandbox whose policy has secrets,
/// its certificate put into the sandbox's trust store, its key kept by the warden
/// alone (never in the sandbox, a file, a record).
///
/// P-256: its keys are made in microseconds and its signatures are small; every TLS
/// client in use verifies ECDSA. The CA is name-constrained to the secrets' hosts, so
/// that even a sandbox that trusts it trusts it for nothing else.
public struct EgressCA {
    public let certificate: Certificate
    public let privateKey: P256.Signing.PrivateKey

    /// A year: the CA lives as long as its sandbox, which has no upper limit of
    /// its own; a certificate that expired under a running agent would fail it.
    public static let validity: TimeInterval = 365 * 24 * 3600

    public init(certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// A new CA whose certificates may name `hosts` only (`api.test`, or `*.api.test`
    /// for the names below api.test). `now` is a parameter for tests.
    public static func make(hosts: [String], now: Date = Date()) throws -> EgressCA {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("safehouse")
            CommonName("safehouse sandbox egress CA")
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        // A wildcard's domain as a subtree: it also admits the domain itself, which
        // the leaves never name unless a secret names it too.
        let domains = Array(Set(hosts.map { $0.hasPrefix("*.") ? String($0.dropFirst(2)) : $0 })).sorted()
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            Critical(NameConstraints(permittedDNSDomains: domains))
            SubjectKeyIdentifier(hash: publicKey)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now - 3600, notValidAfter: now + validity, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(key))
        return EgressCA(certificate: certificate, privateKey: key)
    }

    /// The certificate, PEM: what goes into the sandbox's trust store.
    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString }
    }

    /// The key, PEM (PKCS#8): only for the warden's configuration pipe.
    public var privateKeyPEM: String { privateKey.pemRepresentation }

    /// The CA the warden was handed (certificate and key as PEM), checked to belong together.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
            throw EgressCAError("the CA's key does not belong to its certificate")
        }
        self.init(certificate: certificate, privateKey: key)
    }
}

public struct EgressCAError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
