import CLinux

/// Tar archives for the tests, written member by member (ustar, with a PAX record
/// for attributes): hostile ones too, which no tar tool would write.
enum TestTar {
    struct Member {
        var name: String
        var type: Character
        var content: [UInt8] = []
        var mode: UInt32 = 0o644
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var link = ""
        var major: UInt32 = 0
        var minor: UInt32 = 0
        var xattrs: [(String, String)] = []

        static func file(_ name: String, content: String = "", mode: UInt32 = 0o644, uid: UInt32 = 0, gid: UInt32 = 0,
                         xattrs: [(String, String)] = []) -> Member {
            Member(name: name, type: "0", content: Array(content.utf8), mode: mode, uid: uid, gid: gid, xattrs: xattrs)
        }
        static func directory(_ name: String, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0) -> Member {
            Member(name: name + "/", type: "5", mode: mode, uid: uid, gid: gid)
        }
        static func symlink(_ name: String, to target: String) -> Member { Member(name: name, type: "2", mode: 0o777, link: target) }
        static func hardlink(_ name: String, to target: String) -> Member { Member(name: name, type: "1", link: target) }
        static func device(_ name: String, major: UInt32, minor: UInt32) -> Member {
            Member(name: name, type: "4", mode: 0o660, major: major, minor: minor)
        }
    }

    static func archive(_ members: [Member]) -> [UInt8] {
        var out: [UInt8] = []
        for m in members {
            if !m.xattrs.isEmpty {
                var records: [UInt8] = []
                for (k, v) in m.xattrs {
                    let body = " SCHILY.xattr.\(k)=\(v)\n"
                    var n = body.utf8.count + 1
                    while String(n).utf8.count + body.utf8.count != n { n += 1 }
                    records += Array((String(n) + body).utf8)
                }
                out += header(Member(name: "pax", type: "x"), size: records.count)
                out += pad(records)
            }
            out += header(m, size: m.content.count)
            out += pad(m.content)
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    static func pad(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512) }

    static func header(_ m: Member, size: Int) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int) { for (i, c) in s.utf8.enumerated() { b[at + i] = c } }
        func octal(_ v: UInt64, _ at: Int, _ len: Int) {
            let d = String(v, radix: 8)
            put(String(repeating: "0", count: len - 1 - d.count) + d, at)
        }
        put(m.name, 0)
        octal(UInt64(m.mode), 100, 8)
        octal(UInt64(m.uid), 108, 8)
        octal(UInt64(m.gid), 116, 8)
        octal(UInt64(size), 124, 12)
        octal(0, 136, 12)
        b[156] = m.type.asciiValue!
        put(m.link, 157)
        put("ustar", 257)
        put("00", 263)
        octal(UInt64(m.major), 329, 8)
        octal(UInt64(m.minor), 337, 8)
        for i in 148..<156 { b[i] = 32 }
        octal(b.reduce(0) { $0 + UInt64($1) }, 148, 7)
        return b
    }
}

func sh_lsetxattr_for_test(_ path: String, _ name: String, _ value: String) -> Int32 {
    sh_lsetxattr(path, name, value, value.utf8.count)
}
