import Linux

/// The layers of an overlay mount, read from /proc/self/mountinfo: the ephemeral root
/// of a container whose image root is itself an overlay (containerd's overlayfs
/// snapshotter) idmaps each layer, as overlayfs cannot idmap an overlay mount
/// (mount_setattr answers EINVAL) but takes idmapped layers (Linux 5.19 and later).
package enum OverlayLayers {
    /// The layers of the overlay whose root is mounted at `path`, top first (its
    /// upperdir, then its lowerdirs); nil when `path` is not an overlay's root, or the
    /// options name a layer this reader cannot split safely (data-only layers,
    /// escaped separators).
    static func of(_ path: String, mountinfo: String) -> [String]? {
        superOptions(path, mountinfo: mountinfo).flatMap(layers)
    }

    /// The lower layers of the overlay at `path` when it has no upper layer (a
    /// read-only stack, as ImageRoot mounts an image), top first; nil otherwise.
    package static func readOnlyStack(_ path: String, mountinfo: String) -> [String]? {
        guard let options = superOptions(path, mountinfo: mountinfo),
              !options.split(separator: ",").contains(where: { $0.hasPrefix("upperdir=") }) else { return nil }
        return layers(options)
    }

    /// The super options of the overlay whose root is mounted at `path`; the last
    /// line for a mount point is the mount on top.
    static func superOptions(_ path: String, mountinfo: String) -> String? {
        var options: String?
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard let dash = fields.firstIndex(of: "-"), dash >= 6, fields.count >= dash + 4 else { continue }
            guard fields[3] == "/", unescaped(fields[4]) == path, fields[dash + 1] == "overlay" else { continue }
            options = String(fields[dash + 3])
        }
        return options
    }

    /// The layers in an overlay's super options ("rw,lowerdir=A:B,upperdir=U,workdir=W").
    static func layers(_ options: String) -> [String]? {
        guard !options.contains("\\") else { return nil }
        var upper: [String] = [], lowers: [String] = []
        for option in options.split(separator: ",") {
            if option.hasPrefix("upperdir=") {
                upper = [String(option.dropFirst("upperdir=".count))]
            } else if option.hasPrefix("lowerdir=") {
                let value = option.dropFirst("lowerdir=".count)
                guard !value.contains("::") else { return nil }
                lowers += value.split(separator: ":").map(String.init)
            } else if option.hasPrefix("lowerdir+=") {
                lowers.append(String(option.dropFirst("lowerdir+=".count)))
            } else if option.hasPrefix("datadir+=") {
                return nil
            }
        }
        let all = upper + lowers
        return all.isEmpty || all.contains(where: { !$0.hasPrefix("/") }) ? nil : all
    }

    /// A mountinfo path field with its octal escapes (\040 for a space) undone.
    static func unescaped(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        let raw = Array(field.utf8)
        var i = 0
        while i < raw.count {
            if raw[i] == UInt8(ascii: "\\"), i + 4 <= raw.count,
               let value = UInt8(String(decoding: raw[(i + 1)..<(i + 4)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                i += 4
            } else {
                bytes.append(raw[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
