import Agent
import Egress
import FoundationEssentials
import Images
import OCI

/// An image layer's bytes, for TarReader.
final class InMemory: ByteSource {
    var bytes: ArraySlice<UInt8>
    init(_ bytes: [UInt8]) { self.bytes = bytes[...] }
    func read(upTo count: Int) throws -> [UInt8] {
        let n = min(count, bytes.count)
        defer { bytes = bytes.dropFirst(n) }
        return Array(bytes.prefix(n))
    }
}

/// One input, every parser: none may crash, hang or fail an assertion on any bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let spec = try? Spec.decode(from: Data(bytes)) { _ = try? spec.validate() }
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? PolicyYAML.parse(text)
    _ = try? PolicyReader.parse(text, source: "fuzz")
    if let o = FlatJSONObject(parsing: bytes) {
        _ = o.string("id"); _ = o.stringArray("cgroupPaths"); _ = o.stringMap("annotations"); _ = o.uint64("pid")
    }
    _ = Quantity.bytes(text); _ = Quantity.seconds(text)
    // The egress proxy reads a sandbox's bytes: request heads and TLS ClientHellos.
    _ = ProxyRequest.parse(bytes); _ = ClientHello.parse(bytes)
    _ = try? AllowRule(text); _ = try? Allowlist(annotation: text); _ = IPAddress(text); _ = CIDR(text)
    _ = HostsMapping(text: text); _ = Allowlist.Destination(host: text)
    // Transparent egress reads DNS queries, SOCKS5 handshakes, first bytes and the
    // kernel's socket addresses.
    if case .query(let q) = DNSMessage.parseQuery(bytes) {
        _ = DNSMessage.answer(q, addresses: [], ttl: 1); _ = DNSMessage.error(.refused, to: q)
        if let list = try? Allowlist(annotation: "www.test,*.pkg.test") { _ = DNSGuard.judge(q.question, allowlist: list) }
    }
    _ = Socks5.parseGreeting(bytes); _ = Socks5.parseRequest(bytes)
    _ = ClaimedName.sniff(bytes, port: 80); _ = ClaimedName.sniff(bytes, port: 443); _ = ClaimedName.originRequest(bytes)
    _ = OriginalDestination(sockaddr: bytes)
    // An image's layers come from whoever built it: the tar reader and the unpack
    // rules' name check (the unpacker itself writes files, so it is not run here).
    var reader = TarReader(fd: InMemory(bytes), label: "fuzz")
    while let entry = try? reader.next() {
        _ = try? LayerUnpacker.components(of: entry.name, label: "fuzz")
        while let chunk = try? reader.readContent(max: 4096), !chunk.isEmpty {}
    }
    _ = try? ImageReference.parse(text, cwd: "/")
    return 0
}

// SwiftPM links an executable's entry point as <Target>_main (it renames `main`);
// libFuzzer's driver takes over from there.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("FuzzParsers_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in
        guard let data else { return 0 }
        return fuzz(data, size)
    }
}
