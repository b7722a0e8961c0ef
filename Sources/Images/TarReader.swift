import Linux
#if canImport(Glibc)
import Glibc
#endif

/// One member of a tar stream, with the PAX and GNU long-name records before it
/// already folded in.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular, hardlink, symlink, characterDevice, blockDevice, directory, fifo
    }

    /// The member's name as the archive writes it ("./etc/passwd", "usr/bin/").
    public var name: String
    public var kind: Kind
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    public var mtime: Int64
    /// A link's target: the symlink's text, or the hard link's member name.
    public var linkName: String
    public var devMajor: UInt32
    public var devMinor: UInt32
    /// Extended attributes from PAX `SCHILY.xattr.NAME` records.
    public var xattrs: [(name: String, value: [UInt8])]

    public static func == (a: TarEntry, b: TarEntry) -> Bool {
        a.name == b.name && a.kind == b.kind && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid
            && a.size == b.size && a.mtime == b.mtime && a.linkName == b.linkName
            && a.xattrs.map(\.name) == b.xattrs.map(\.name) && a.xattrs.map(\.value) == b.xattrs.map(\.value)
    }
}

/// A streaming reader of a tar archive (POSIX ustar, PAX extended headers, GNU long
/// names): what OCI and Docker image layers are. It only parses: what may be done
/// with a member is LayerUnpacker's business. Sizes and numbers come from the
/// archive, so every field is checked (header checksum, octal or base-256 numbers).
public struct TarReader {
    let fd: ByteSource
    /// What the archive is called in errors ("layer sha256:ab12...").
    let label: String
    /// Every byte read is also written here (LayerStream's digest).
    let tee: FileDescriptor?
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false
    /// Bytes of the current member's content not yet read.
    private var remaining: UInt64 = 0
    private var padding: Int = 0
    /// Bytes consumed so far (for errors).
    private var offset: UInt64 = 0

    public init(fd: ByteSource, label: String, tee: FileDescriptor? = nil) {
        self.fd = fd
        self.label = label
        self.tee = tee
    }

    /// The next member, or nil at the end of the archive (two zero blocks, or the end
    /// of the stream after a zero block). The previous member's content is skipped
    /// if it was not read.
    public mutating func next() throws -> TarEntry? {
        try skipContent()
        var paxPath: String?, paxLink: String?, paxSize: UInt64?, paxUid: UInt32?, paxGid: UInt32?, paxMtime: Int64?
        var longName: String?, longLink: String?
        var xattrs: [(name: String, value: [UInt8])] = []
        while true {
            guard let header = try readBlock() else {
                // A stream cut before its end marker: a truncated layer.
                throw ImageError("\(label): the archive ends without its end marker (truncated at byte \(offset))")
            }
            if header.allSatisfy({ $0 == 0 }) { return nil }
            try verifyChecksum(header)
            let type = header[156]
            let size = try number(header, 124, 12, "size")
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let records = try readAll(size, what: "PAX header")
                // Global headers ('g') apply to every member after; images do not use
                // them for names, and a global path would be meaningless: ignored.
                guard type == UInt8(ascii: "x") else { continue }
                for (key, value) in try paxRecords(records) {
                    switch key {
                    case "path": paxPath = String(decoding: value, as: UTF8.self)
                    case "linkpath": paxLink = String(decoding: value, as: UTF8.self)
                    case "size": paxSize = UInt64(String(decoding: value, as: UTF8.self))
                    case "uid": paxUid = UInt32(String(decoding: value, as: UTF8.self))
                    case "gid": paxGid = UInt32(String(decoding: value, as: UTF8.self))
                    case "mtime":
                        let text = String(decoding: value, as: UTF8.self)
                        paxMtime = Int64(text.split(separator: ".").first.map(String.init) ?? text)
                    default:
                        if key.hasPrefix("SCHILY.xattr.") { xattrs.append((String(key.dropFirst("SCHILY.xattr.".count)), value)) }
                    }
                }
                continue
            case UInt8(ascii: "L"):
                longName = cString(try readAll(size, what: "GNU long name"))
                continue
            case UInt8(ascii: "K"):
                longLink = cString(try readAll(size, what: "GNU long link name"))
                continue
            default:
                break
            }
            var name = cString(Array(header[0..<100]))
            let magic = Array(header[257..<262])
            if magic == Array("ustar".utf8) {
                let prefix = cString(Array(header[345..<500]))
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            let kind: TarEntry.Kind
            switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .regular
            case UInt8(ascii: "1"): kind = .hardlink
            case UInt8(ascii: "2"): kind = .symlink
            case UInt8(ascii: "3"): kind = .characterDevice
            case UInt8(ascii: "4"): kind = .blockDevice
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "6"): kind = .fifo
            default:
                throw ImageError("\(label): \(paxPath ?? longName ?? name): member type '\(String(UnicodeScalar(type)))' is not supported")
            }
            let uid = try id(try number(header, 108, 8, "uid"), "uid", name)
            let gid = try id(try number(header, 116, 8, "gid"), "gid", name)
            let mtime = Int64(truncatingIfNeeded: try number(header, 136, 12, "mtime"))
            var entry = TarEntry(
                name: paxPath ?? longName ?? name, kind: kind,
                mode: UInt32(truncatingIfNeeded: try number(header, 100, 8, "mode")) & 0o7777,
                uid: paxUid ?? uid,
                gid: paxGid ?? gid,
                size: paxSize ?? size,
                mtime: paxMtime ?? mtime,
                linkName: paxLink ?? longLink ?? cString(Array(header[157..<257])),
                devMajor: UInt32(truncatingIfNeeded: try number(header, 329, 8, "devmajor")),
                devMinor: UInt32(truncatingIfNeeded: try number(header, 337, 8, "devminor")),
                xattrs: xattrs)
            // Only regular files carry content; a size on anything else is skipped.
            if kind != .regular { entry.size = 0 }
            remaining = paxSize ?? size
            padding = Int((512 - (remaining % 512)) % 512)
            return entry
        }
    }

    /// Reads up to `max` bytes of the current member's content; empty at its end.
    public mutating func readContent(max: Int) throws -> ArraySlice<UInt8> {
        guard remaining > 0 else { return [] }
        if start >= buffer.count { try fill() }
        guard start < buffer.count else { throw ImageError("\(label): the archive ends inside a member (truncated at byte \(offset))") }
        let n = Int(min(UInt64(min(max, buffer.count - start)), remaining))
        let slice = buffer[start..<start + n]
        start += n
        offset += UInt64(n)
        remaining -= UInt64(n)
        return slice
    }

    private mutating func skipContent() throws {
        while remaining > 0 { _ = try readContent(max: 1 << 20) }
        if padding > 0 {
            _ = try readExactly(padding)
            padding = 0
        }
    }

    private mutating func readAll(_ size: UInt64, what: String) throws -> [UInt8] {
        guard size <= 1 << 20 else { throw ImageError("\(label): a \(what) of \(size) bytes (at most 1 MiB)") }
        let bytes = try readExactly(Int(size))
        let pad = Int((512 - (size % 512)) % 512)
        if pad > 0 { _ = try readExactly(pad) }
        return bytes
    }

    private mutating func readBlock() throws -> [UInt8]? {
        if start >= buffer.count { try fill() }
        if start >= buffer.count { return nil }
        return try readExactly(512)
    }

    private mutating func readExactly(_ count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            if start >= buffer.count { try fill() }
            guard start < buffer.count else { throw ImageError("\(label): the archive ends inside a header (truncated at byte \(offset))") }
            let n = min(count - out.count, buffer.count - start)
            out += buffer[start..<start + n]
            start += n
            offset += UInt64(n)
        }
        return out
    }

    private mutating func fill() throws {
        guard !atEnd else { return }
        buffer = try fd.read(upTo: 1 << 20)
        start = 0
        if buffer.isEmpty { atEnd = true } else { try tee?.write(buffer) }
    }

    private func verifyChecksum(_ header: [UInt8]) throws {
        var sum: UInt64 = 0
        for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : UInt64(b) }
        let recorded = try number(header, 148, 8, "checksum")
        guard recorded == sum else { throw ImageError("\(label): a header at byte \(offset - 512) has a bad checksum (not a tar archive?)") }
    }

    /// A numeric field: octal text (NUL or space terminated), or base-256 when the
    /// first byte's high bit is set (GNU, for sizes over 8 GiB and large ids).
    private func number(_ header: [UInt8], _ at: Int, _ length: Int, _ field: String) throws -> UInt64 {
        let bytes = header[at..<at + length]
        if let first = bytes.first, first & 0x80 != 0 {
            guard first == 0x80 else { throw ImageError("\(label): a negative \(field) field") }
            var value: UInt64 = 0
            for b in bytes.dropFirst() {
                guard value >> 56 == 0 else { throw ImageError("\(label): the \(field) field overflows") }
                value = value << 8 | UInt64(b)
            }
            return value
        }
        var value: UInt64 = 0
        var seenDigit = false
        for b in bytes {
            if b == 0 || (b == 32 && seenDigit) { break }
            if b == 32 { continue }
            guard b >= 48 && b <= 55 else { throw ImageError("\(label): the \(field) field is not an octal number") }
            guard value >> 60 == 0 else { throw ImageError("\(label): the \(field) field overflows") }
            value = value << 3 | UInt64(b - 48)
            seenDigit = true
        }
        return value
    }

    /// "LEN KEY=VALUE\n" records of a PAX extended header.
    private func paxRecords(_ bytes: [UInt8]) throws -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0 { break }
            guard let space = bytes[i...].firstIndex(of: 32),
                  let length = Int(String(decoding: bytes[i..<space], as: UTF8.self)),
                  length > space - i + 1, i + length <= bytes.count, bytes[i + length - 1] == 10,
                  let eq = bytes[(space + 1)..<(i + length)].firstIndex(of: UInt8(ascii: "="))
            else { throw ImageError("\(label): a malformed PAX header record") }
            out.append((String(decoding: bytes[(space + 1)..<eq], as: UTF8.self), Array(bytes[(eq + 1)..<(i + length - 1)])))
            i += length
        }
        return out
    }

    private func id(_ value: UInt64, _ field: String, _ name: String) throws -> UInt32 {
        guard let id = UInt32(exactly: value) else { throw ImageError("\(label): \(name): the \(field) \(value) is out of range") }
        return id
    }

    private func cString(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
