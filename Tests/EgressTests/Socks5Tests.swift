@testable import Egress
import XCTest

final class Socks5Tests: XCTestCase {
    func testGreeting() {
        XCTAssertEqual(Socks5.parseGreeting([]), .needMoreBytes)
        XCTAssertEqual(Socks5.parseGreeting([5]), .needMoreBytes)
        XCTAssertEqual(Socks5.parseGreeting([5, 2, 0]), .needMoreBytes)
        XCTAssertEqual(Socks5.parseGreeting([5, 2, 0, 2, 9]), .methods([0, 2], length: 4))
        XCTAssertEqual(Socks5.parseGreeting([4, 1, 0]), .invalid("not SOCKS 5 (version 4)"))
        XCTAssertEqual(Socks5.parseGreeting([5, 0]), .invalid("no authentication methods offered"))
        XCTAssertEqual(Socks5.choose([2, 0]), [5, 0])
        XCTAssertEqual(Socks5.choose([2]), [5, 0xFF])
    }

    func testConnectRequests() {
        let name: [UInt8] = [5, 1, 0, 3, 8] + Array("ssh.test".utf8) + [0, 22]
        XCTAssertEqual(Socks5.parseRequest(name), .connect(host: "ssh.test", port: 22, length: name.count))
        XCTAssertEqual(Socks5.parseRequest(name + [1, 2, 3]), .connect(host: "ssh.test", port: 22, length: name.count))
        for cut in 0..<name.count { XCTAssertEqual(Socks5.parseRequest(Array(name[0..<cut])), .needMoreBytes, "\(cut)") }
        XCTAssertEqual(Socks5.parseRequest([5, 1, 0, 1, 198, 51, 100, 2, 1, 187]), .connect(host: "198.51.100.2", port: 443, length: 10))
        let v6: [UInt8] = [5, 1, 0, 4] + [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1] + [0, 80]
        XCTAssertEqual(Socks5.parseRequest(v6), .connect(host: "2001:db8::1", port: 80, length: 22))
    }

    func testRefusals() {
        XCTAssertEqual(Socks5.parseRequest([5, 2, 0, 1, 1, 2, 3, 4, 0, 80]), .unsupported(command: 2))
        XCTAssertEqual(Socks5.parseRequest([5, 3, 0, 1, 1, 2, 3, 4, 0, 80]), .unsupported(command: 3))
        XCTAssertEqual(Socks5.parseRequest([5, 1, 0, 9, 0, 0]), .invalid("address type 9", reply: .addressTypeNotSupported))
        XCTAssertEqual(Socks5.parseRequest([5, 1, 0, 3, 0, 0, 80]), .invalid("empty domain name", reply: .generalFailure))
        XCTAssertEqual(Socks5.parseRequest([5, 1, 0, 1, 1, 2, 3, 4, 0, 0]), .invalid("port 0", reply: .generalFailure))
        XCTAssertEqual(Socks5.parseRequest([4, 1, 0, 1]), .invalid("not SOCKS 5 (version 4)", reply: .generalFailure))
        XCTAssertEqual(Socks5.reply(.notAllowed), [5, 2, 0, 1, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Socks5.reply(.succeeded), [5, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    }
}
