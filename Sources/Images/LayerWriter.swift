import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Writes a sandbox's upper layer (overlayfs form) as an OCI image layer tar (the
/// image-spec's changeset form): a whiteout (0:0 character device) becomes an empty
/// `.wh.NAME`, an opaque directory gets a `.wh..wh..opq` member, hard links inside the
/// layer stay links. Owners are the sandbox's own ids: host ids of its user namespace
/// range are mapped back (`hostBase` -> 0), so the layer means the same in any
/// sandbox. Sockets and device nodes (a sandbox cannot make real ones) are left out.
/// The tar is deterministic for the same tree (sorted names), so its digest names it.
public struct LayerWriter {
    let out: FileDescriptor
    let hostBase: UInt32
    let idCount: UInt32
    private var pending: [UInt8] = []
    private var links: [UInt64: String] = [:]

    /// Writes the layer of `upper` to `tarPath`, skipping the empty directories in
    /// `skipEmptyDirectories` (the mount points the runtime made, "/scratch").
    public static func write(upper: String, to tarPath: String, hostBase: UInt32, idCount: UInt32, skipEmptyDirectories: Set<String>) throws {
        let fd = try FileDescriptor.open(tarPath, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o600)
        var writer = LayerWriter(out: fd, hostBase: hostBase, idCount: idCount)
        try writer.walk(upper, relative: "", skip: skipEmptyDirectories)
        writer.pending += [UInt8](repeating: 0, count: 1024)
        try writer.flush(force: true)
    }

    init(out: FileDescriptor, hostBase: UInt32, idCount: UInt32) {
        self.out = out
        self.hostBase = hostBase
        self.idCount = idCount
    }

    private mutating func walk(_ upper: String, relative: String, skip: Set<String>) throws {
        for name in try Files.list(upper + relative).sorted() {
            let rel = relative + "/" + name
            let path = upper + rel
            var st = stat()
            try syscall("lstat", path) { lstat(path, &st) }
            let member = String(rel.dropFirst())
            let mtime = Int64(st.st_mtim.tv_sec)
            let (uid, gid) = (mapped(st.st_uid), mapped(st.st_gid))
            let mode = UInt32(st.st_mode & 0o7777)
            switch st.st_mode & S_IFMT {
            case S_IFCHR where st.st_rdev == 0:
                let parent = relative.isEmpty ? "" : String(relative.dropFirst()) + "/"
                try header(parent + ".wh." + name, type: "0", mode: 0o644, uid: 0, gid: 0, size: 0, mtime: mtime)
            case S_IFDIR:
                let children = (try? Files.list(path)) ?? []
                if children.isEmpty && skip.contains(rel) { continue }
                try header(member + "/", type: "5", mode: mode, uid: uid, gid: gid, size: 0, mtime: mtime)
                if Files.extendedAttribute(path, "trusted.overlay.opaque") == [UInt8(ascii: "y")] {
                    try header(member + "/.wh..wh..opq", type: "0", mode: 0o644, uid: 0, gid: 0, size: 0, mtime: mtime)
                }
                try walk(upper, relative: rel, skip: skip)
            case S_IFREG:
                if st.st_nlink > 1, let first = links[UInt64(st.st_ino)] {
                    try header(member, type: "1", mode: mode, uid: uid, gid: gid, size: 0, mtime: mtime, link: first)
                    continue
                }
                if st.st_nlink > 1 { links[UInt64(st.st_ino)] = member }
                try header(member, type: "0", mode: mode, uid: uid, gid: gid, size: UInt64(st.st_size), mtime: mtime)
                try content(path, size: UInt64(st.st_size))
            case S_IFLNK:
                try header(member, type: "2", mode: mode, uid: uid, gid: gid, size: 0, mtime: mtime, link: try Files.readLink(path))
            case S_IFIFO:
                try header(member, type: "6", mode: mode, uid: uid, gid: gid, size: 0, mtime: mtime)
            default:
                continue
            }
        }
    }

    private func mapped(_ id: UInt32) -> UInt32 {
        id >= hostBase && id - hostBase < idCount ? id - hostBase : id
    }

    private mutating func content(_ path: String, size: UInt64) throws {
        let fd = try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW)
        var left = size
        while left > 0 {
            let chunk = try fd.read(upTo: Int(min(left, 1 << 20)))
            guard !chunk.isEmpty else { throw ImageError("\(path): changed while it was committed") }
            pending += chunk
            left -= UInt64(chunk.count)
            try flush(force: false)
        }
        let pad = Int((512 - size % 512) % 512)
        pending += [UInt8](repeating: 0, count: pad)
    }

    /// A ustar header, after a PAX record when a name or link is too long for it.
    private mutating func header(_ name: String, type: Character, mode: UInt32, uid: UInt32, gid: UInt32, size: UInt64, mtime: Int64, link: String = "") throws {
        var pax: [(String, String)] = []
        if name.utf8.count > 99 { pax.append(("path", name)) }
        if link.utf8.count > 99 { pax.append(("linkpath", link)) }
        if uid > 0o7777777 { pax.append(("uid", String(uid))) }
        if gid > 0o7777777 { pax.append(("gid", String(gid))) }
        if !pax.isEmpty {
            var records: [UInt8] = []
            for (key, value) in pax {
                let body = " \(key)=\(value)\n"
                var length = body.utf8.count + 1
                while String(length).utf8.count + body.utf8.count != length { length += 1 }
                records += Array((String(length) + body).utf8)
            }
            pending += block(name: "PaxHeader", type: "x", mode: 0o644, uid: 0, gid: 0, size: UInt64(records.count), mtime: mtime, link: "")
            pending += records + [UInt8](repeating: 0, count: (512 - records.count % 512) % 512)
        }
        pending += block(name: String(decoding: name.utf8.prefix(99), as: UTF8.self), type: type, mode: mode,
                         uid: min(uid, 0o7777777), gid: min(gid, 0o7777777), size: size, mtime: mtime,
                         link: String(decoding: link.utf8.prefix(99), as: UTF8.self))
        try flush(force: false)
    }

    private func block(name: String, type: Character, mode: UInt32, uid: UInt32, gid: UInt32, size: UInt64, mtime: Int64, link: String) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ at: Int, _ length: Int) {
            for (i, c) in text.utf8.prefix(length).enumerated() { b[at + i] = c }
        }
        func octal(_ value: UInt64, _ at: Int, _ length: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, length - 1 - digits.count)) + digits, at, length - 1)
        }
        put(name, 0, 100)
        octal(UInt64(mode), 100, 8)
        octal(UInt64(uid), 108, 8)
        octal(UInt64(gid), 116, 8)
        octal(size, 124, 12)
        octal(UInt64(max(0, mtime)), 136, 12)
        b[156] = type.asciiValue ?? 48
        put(link, 157, 100)
        put("ustar", 257, 6)
        put("00", 263, 2)
        for i in 148..<156 { b[i] = 32 }
        let sum = b.reduce(0) { $0 + UInt64($1) }
        octal(sum, 148, 7)
        b[154] = 0
        b[155] = 32
        return b
    }

    private mutating func flush(force: Bool) throws {
        guard force || pending.count >= 1 << 20 else { return }
        try out.write(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
