import AuditChain
import Crypto
import XCTest

/// The plain-Swift SHA-256 and HMAC-SHA-256 the audit chain uses, against the
/// standards' own vectors and against swift-crypto on random input.
final class SHA256Tests: XCTestCase {
    func hex(_ b: [UInt8]) -> String { b.map { String($0 >> 4, radix: 16) + String($0 & 15, radix: 16) }.joined() }

    func testFIPSVectors() {
        XCTAssertEqual(hex(SHA256Digest.hash(Array("".utf8))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(SHA256Digest.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(SHA256Digest.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex(SHA256Digest.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testRFC4231Vectors() {
        // Test case 1: a 20-byte key.
        let k1 = AuditKey(bytes: [UInt8](repeating: 0x0b, count: 20))
        XCTAssertEqual(hex(k1.authenticationCode(for: Array("Hi There".utf8))),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        // Test case 2: a key shorter than the block.
        XCTAssertEqual(hex(AuditKey(bytes: Array("Jefe".utf8)).authenticationCode(for: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Test case 6: a key longer than the block is hashed first.
        XCTAssertEqual(hex(AuditKey(bytes: [UInt8](repeating: 0xaa, count: 131))
                .authenticationCode(for: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    /// Every length around the block and padding boundaries, and random ones, agree
    /// with swift-crypto; so do MACs under keys of every length up to two blocks.
    func testAgreesWithSwiftCrypto() {
        var g = SystemRandomNumberGenerator()
        for length in Array(0...200) + (0..<50).map({ _ in Int.random(in: 0...5000, using: &g) }) {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &g) }
            XCTAssertEqual(SHA256Digest.hash(bytes), Array(Crypto.SHA256.hash(data: bytes)), "length \(length)")
            let key = (0..<(length % 130)).map { _ in UInt8.random(in: 0...255, using: &g) }
            XCTAssertEqual(AuditKey(bytes: key).authenticationCode(for: bytes),
                           Array(HMAC<Crypto.SHA256>.authenticationCode(for: bytes, using: SymmetricKey(data: key))), "length \(length)")
        }
    }

    func testConstantTimeEqual() {
        XCTAssertTrue(constantTimeEqual([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        XCTAssertFalse(constantTimeEqual([1, 2, 3] as [UInt8], [1, 2, 4] as [UInt8]))
        XCTAssertFalse(constantTimeEqual([1, 2] as [UInt8], [1, 2, 3] as [UInt8]))
    }
}
