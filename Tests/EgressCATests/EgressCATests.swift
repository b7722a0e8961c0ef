import Crypto
import EgressCA
import Foundation
import X509
import XCTest

/// The sandbox's CA and the leaves it signs, checked with swift-certificates' own
/// RFC 5280 verifier and server-identity policy, as a TLS client would check them.
final class EgressCATests: XCTestCase {
    let now = Date()

    func verify(_ leaf: Certificate, host: String, trusting ca: EgressCA) async -> Bool {
        var verifier = Verifier(rootCertificates: CertificateStore([ca.certificate])) {
            RFC5280Policy(validationTime: now)
            ServerIdentityPolicy(serverHostname: host, serverIP: nil)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore()) {
        case .validCertificate: return true
        case .couldNotValidate: return false
        }
    }

    func testALeafForASecretsHostVerifiesAgainstTheCA() async throws {
        let ca = try EgressCA.make(hosts: ["api.test", "*.github.test"], now: now)
        let key = P256.Signing.PrivateKey()
        let leaf = try LeafCertificate.mint(host: "api.test", key: key.publicKey, by: ca, now: now)
        let ok = await verify(leaf.certificate, host: "api.test", trusting: ca)
        XCTAssertTrue(ok)
        let sub = try LeafCertificate.mint(host: "x.github.test", key: key.publicKey, by: ca, now: now)
        let subOK = await verify(sub.certificate, host: "x.github.test", trusting: ca)
        XCTAssertTrue(subOK)
        XCTAssertFalse(try leaf.der.isEmpty)
    }

    func testALeafDoesNotServeAnotherName() async throws {
        let ca = try EgressCA.make(hosts: ["api.test", "other.test"], now: now)
        let leaf = try LeafCertificate.mint(host: "api.test", key: P256.Signing.PrivateKey().publicKey, by: ca, now: now)
        let ok = await verify(leaf.certificate, host: "other.test", trusting: ca)
        XCTAssertFalse(ok)
    }

    /// Name constraints: the sandbox trusts its CA for the secrets' hosts only, even
    /// were a leaf for another name signed by it.
    func testTheCAIsTrustedOnlyForItsSecretsHosts() async throws {
        let ca = try EgressCA.make(hosts: ["api.test"], now: now)
        let leaf = try LeafCertificate.mint(host: "bank.test", key: P256.Signing.PrivateKey().publicKey, by: ca, now: now)
        let ok = await verify(leaf.certificate, host: "bank.test", trusting: ca)
        XCTAssertFalse(ok)
    }

    func testAnotherCAsLeafIsNotTrusted() async throws {
        let ca = try EgressCA.make(hosts: ["api.test"], now: now)
        let stranger = try EgressCA.make(hosts: ["api.test"], now: now)
        let leaf = try LeafCertificate.mint(host: "api.test", key: P256.Signing.PrivateKey().publicKey, by: stranger, now: now)
        let ok = await verify(leaf.certificate, host: "api.test", trusting: ca)
        XCTAssertFalse(ok)
    }

    func testTheCAIsACAAndTheLeafIsNot() throws {
        let ca = try EgressCA.make(hosts: ["api.test"], now: now)
        XCTAssertEqual(try ca.certificate.extensions.basicConstraints, .isCertificateAuthority(maxPathLength: 0))
        let leaf = try LeafCertificate.mint(host: "api.test", key: P256.Signing.PrivateKey().publicKey, by: ca, now: now)
        XCTAssertEqual(try leaf.certificate.extensions.basicConstraints, .notCertificateAuthority)
        XCTAssertEqual(leaf.certificate.issuer, ca.certificate.subject)
        XCTAssertLessThanOrEqual(leaf.certificate.notValidAfter, ca.certificate.notValidAfter)
        XCTAssertLessThan(leaf.certificate.notValidBefore, now)
    }

    func testTwoCAsAreTwoKeys() throws {
        let a = try EgressCA.make(hosts: ["api.test"]), b = try EgressCA.make(hosts: ["api.test"])
        XCTAssertNotEqual(a.privateKeyPEM, b.privateKeyPEM)
        XCTAssertNotEqual(a.certificate.serialNumber, b.certificate.serialNumber)
    }

    func testPEMRoundTripAndAKeyThatIsNotTheCertificatesIsRefused() throws {
        let ca = try EgressCA.make(hosts: ["api.test"])
        let pem = try ca.certificatePEM
        XCTAssertTrue(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        XCTAssertFalse(pem.contains("PRIVATE KEY"))
        let back = try EgressCA(certificatePEM: pem, privateKeyPEM: ca.privateKeyPEM)
        XCTAssertEqual(back.certificate, ca.certificate)
        let other = try EgressCA.make(hosts: ["api.test"])
        XCTAssertThrowsError(try EgressCA(certificatePEM: pem, privateKeyPEM: other.privateKeyPEM)) { error in
            XCTAssertEqual("\(error)", "the CA's key does not belong to its certificate")
        }
    }

    func testAWildcardIsNoLeafName() throws {
        let ca = try EgressCA.make(hosts: ["*.api.test"])
        XCTAssertThrowsError(try LeafCertificate.mint(host: "*.api.test", key: P256.Signing.PrivateKey().publicKey, by: ca))
    }
}
