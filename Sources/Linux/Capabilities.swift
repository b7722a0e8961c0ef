import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A set of capabilities as the kernel's 64-bit mask.
public struct CapabilitySet: Sendable, Equatable {
    public var mask: UInt64
    public init(mask: UInt64 = 0) { self.mask = mask }
    public init(_ numbers: [Int]) {
        mask = numbers.reduce(0) { $0 | (1 << UInt64($1)) }
    }
    public func contains(_ cap: Int) -> Bool { mask & (1 << UInt64(cap)) != 0 }
}

public enum Capabilities {
    static let PR_CAPBSET_DROP: Int32 = 24
    static let PR_CAP_AMBIENT: Int32 = 47
    static let PR_CAP_AMBIENT_RAISE: UInt = 2
    static let PR_CAP_AMBIENT_CLEAR_ALL: UInt = 4
    static let PR_SET_KEEPCAPS: Int32 = 8

    /// The highest capability this kernel knows.
    public static var lastCap: Int {
        if let text = try? Files.readString("/proc/sys/kernel/cap_last_cap"),
           let n = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) { return n }
        return Int(sh_last_cap())
    }

    /// Drops from the bounding set every capability not in `keep`.
    public static func limitBoundingSet(to keep: CapabilitySet, lastCap: Int) throws {
        for cap in 0...lastCap where !keep.contains(cap) {
            try syscall("prctl PR_CAPBSET_DROP") { sh_prctl(PR_CAPBSET_DROP, UInt(cap), 0, 0, 0) }
        }
    }

    public static func set(effective: CapabilitySet, permitted: CapabilitySet, inheritable: CapabilitySet) throws {
        try syscall("capset") { sh_capset(effective.mask, permitted.mask, inheritable.mask) }
    }

    public static func raiseAmbient(_ caps: CapabilitySet, lastCap: Int) {
        _ = sh_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
        // The kernel raises an ambient capability only if it is both permitted and
        // inheritable; runc skips the others with a warning, so does this.
        for cap in 0...lastCap where caps.contains(cap) {
            _ = sh_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, UInt(cap), 0, 0)
        }
    }

    /// Keep permitted capabilities across the uid change from root to the container user.
    public static func keepAcrossSetuid(_ on: Bool) throws {
        try syscall("prctl PR_SET_KEEPCAPS") { sh_prctl(PR_SET_KEEPCAPS, on ? 1 : 0, 0, 0, 0) }
    }
}

extension String {
    /// Leading and trailing characters in `set` removed (FoundationEssentials-free).
    /// Works on the UTF-8 bytes: these sets are ASCII, and Character comparison costs
    /// far more on the paths that read small /proc and cgroup files.
    public func trimmingCharacters(in set: TrimSet) -> String {
        let bytes = utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, set.bytes.contains(bytes[start]) { start = bytes.index(after: start) }
        while end > start, set.bytes.contains(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

public struct TrimSet: Sendable {
    let bytes: [UInt8]
    public static let whitespacesAndNewlines = TrimSet(bytes: [0x20, 0x09, 0x0a, 0x0d])
}

extension Capabilities {
    /// The calling process's (effective, permitted, inheritable) sets.
    public static func current() -> (effective: CapabilitySet, permitted: CapabilitySet, inheritable: CapabilitySet) {
        var e: UInt64 = 0, p: UInt64 = 0, i: UInt64 = 0
        _ = sh_capget(&e, &p, &i)
        return (CapabilitySet(mask: e), CapabilitySet(mask: p), CapabilitySet(mask: i))
    }
}
