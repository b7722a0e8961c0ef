import Foundation
@testable import Sandbox
import XCTest

/// The trust store files of a sandbox with a CA: the image's bundles plus the CA, read
/// inside the image (its links cannot reach the host's files), and the variables' bundle.
final class TrustBundleTests: XCTestCase {
    var image = ""
    let ca = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"

    override func setUpWithError() throws {
        image = NSTemporaryDirectory() + "trust-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: image + "/etc/ssl/certs", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: image) }

    func write(_ path: String, _ text: String) throws { try text.write(toFile: image + path, atomically: true, encoding: .utf8) }

    func testAnImageWithoutABundleGetsTheCAAloneInTheVariablesBundle() {
        XCTAssertEqual(TrustBundle.files(image: image, certificatePEM: ca), [TrustBundle.bundlePath: ca])
    }

    func testTheImagesBundlesGetTheCAAppended() throws {
        try write("/etc/ssl/certs/ca-certificates.crt", "ORIGINAL")
        // A link, absolute, resolved inside the image.
        try FileManager.default.createSymbolicLink(atPath: image + "/etc/ssl/cert.pem", withDestinationPath: "/etc/ssl/certs/ca-certificates.crt")
        let files = TrustBundle.files(image: image, certificatePEM: ca)
        XCTAssertEqual(files["/etc/ssl/certs/ca-certificates.crt"], "ORIGINAL\n" + ca)
        XCTAssertEqual(files["/etc/ssl/cert.pem"], "ORIGINAL\n" + ca)
        XCTAssertEqual(files[TrustBundle.bundlePath], "ORIGINAL\n" + ca)
        XCTAssertNil(files["/etc/pki/tls/certs/ca-bundle.crt"])
    }

    func testALinkOutOfTheImageReadsTheImageNotTheHost() throws {
        // /etc/hostname exists on the host; inside the image the link leads nowhere.
        try FileManager.default.createSymbolicLink(atPath: image + "/etc/ssl/cert.pem", withDestinationPath: "../../../../../../etc/hostname")
        XCTAssertEqual(TrustBundle.files(image: image, certificatePEM: ca), [TrustBundle.bundlePath: ca])
    }

    func testABundleUnderALinkedDirectoryIsLeftAlone() throws {
        try FileManager.default.createDirectory(atPath: image + "/etc/pki/tls/certs", withIntermediateDirectories: true)
        try write("/etc/pki/tls/certs/ca-bundle.crt", "FEDORA\n")
        try FileManager.default.removeItem(atPath: image + "/etc/ssl/certs")
        try FileManager.default.createSymbolicLink(atPath: image + "/etc/ssl/certs", withDestinationPath: "../pki/tls/certs")
        let files = TrustBundle.files(image: image, certificatePEM: ca)
        XCTAssertEqual(Set(files.keys), ["/etc/pki/tls/certs/ca-bundle.crt", TrustBundle.bundlePath])
        XCTAssertEqual(files["/etc/pki/tls/certs/ca-bundle.crt"], "FEDORA\n" + ca)
    }

    func testTheWardensOutputIsACertificateThenAKey() throws {
        let material = try EgressCALauncher.parse("-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nBB\n-----END PRIVATE KEY-----\n")
        XCTAssertEqual(material.certificatePEM, "-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n")
        XCTAssertEqual(material.keyPEM, "-----BEGIN PRIVATE KEY-----\nBB\n-----END PRIVATE KEY-----\n")
        XCTAssertThrowsError(try EgressCALauncher.parse("-----BEGIN PRIVATE KEY-----\nBB\n-----END PRIVATE KEY-----\n"))
    }
}
