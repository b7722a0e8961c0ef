import Linux
#if canImport(Glibc)
import Glibc
#endif

/// pause / resume: the v1 freezer controller where it is mounted, else cgroup v2's
/// core freezer (cgroup.freeze, present in every non-root v2 cgroup even with no
/// controllers enabled).
extension CgroupManager {
    enum Freezer { case v1(String), v2(String) }

    var freezer: Freezer? {
        for h in layout.v1 where h.controllers.contains("freezer") {
            if let dir = directory(in: h) { return .v1(dir) }
        }
        if let u = layout.unified, let dir = directory(in: u), dir != u.mountPoint { return .v2(dir) }
        return nil
    }

    /// Freezes every process in the container and returns once the kernel reports
    /// the cgroup frozen (v1 FROZEN, v2 "frozen 1" in cgroup.events). On failure
    /// the cgroup is thawed again: a half-frozen container is worse than none.
    public func freeze() throws {
        do {
            switch freezer {
            case .v1(let dir)?: try freezeV1(dir)
            case .v2(let dir)?: try freezeV2(dir)
            case nil: throw CgroupError(message: "pause: no freezer: neither a v1 freezer hierarchy nor cgroup v2 is mounted")
            }
        } catch {
            try? thaw()
            throw error
        }
    }

    /// Thaws the container.
    public func thaw() throws {
        switch freezer {
        case .v1(let dir)?: try Self.write(dir + "/freezer.state", "THAWED")
        case .v2(let dir)?: try Self.write(dir + "/cgroup.freeze", "0")
        case nil: return // nothing was frozen
        }
    }

    /// Whether the container's own cgroup is frozen (not just an ancestor).
    public var isFrozen: Bool {
        switch freezer {
        case .v1(let dir)?:
            // FREEZING is transient: a frozen ancestor shows FROZEN with self_freezing 0.
            let state = (Self.text(dir + "/freezer.state") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard state == "FROZEN" else { return false }
            return Self.readUInt(dir + "/freezer.self_freezing").map { $0 == 1 } ?? true
        case .v2(let dir)?:
            return Self.readUInt(dir + "/cgroup.freeze") == 1 && Self.keyValues(dir + "/cgroup.events")["frozen"] == 1
        case nil:
            return false
        }
    }

    /// runc's v1 loop: write FROZEN and read back until the state leaves FREEZING;
    /// a cgroup whose processes keep forking may need retries, with an occasional
    /// thaw and sleep to let the kernel catch up.
    func freezeV1(_ dir: String) throws {
        for attempt in 0..<1000 {
            if attempt % 50 == 49 {
                try? Self.write(dir + "/freezer.state", "THAWED")
                usleep(10_000)
            }
            try Self.write(dir + "/freezer.state", "FROZEN")
            if attempt % 25 == 24 { usleep(10) }
            let state = (Self.text(dir + "/freezer.state") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            switch state {
            case "FROZEN": return
            case "FREEZING": continue
            default: throw CgroupError(message: "cgroup \(dir)/freezer.state: unexpected state \"\(state)\" while freezing", path: dir + "/freezer.state")
            }
        }
        throw CgroupError(message: "cgroup \(dir): unable to freeze (stuck in FREEZING)", path: dir + "/freezer.state")
    }

    /// v2: write 1, then poll cgroup.events for "frozen 1" (runc: 10 ms steps, 10 s).
    func freezeV2(_ dir: String) throws {
        try Self.write(dir + "/cgroup.freeze", "1")
        for _ in 0..<10_000 {
            if Self.keyValues(dir + "/cgroup.events")["frozen"] == 1 { return }
            usleep(1000)
        }
        throw CgroupError(message: "cgroup \(dir): timed out after 10s waiting for the cgroup to freeze", path: dir + "/cgroup.events")
    }

    /// How many times the kernel's OOM killer has killed a process in the container:
    /// v1 memory.oom_control's oom_kill line (Linux 4.13+), v2 memory.events'
    /// oom_kill. A polled counter; `events` reports an "oom" event when it grows.
    public func oomEventCount() -> UInt64 {
        guard let (dir, version) = directory(for: "memory") else { return 0 }
        let file = version == .v1 ? "/memory.oom_control" : "/memory.events"
        return Self.keyValues(dir + file)["oom_kill"] ?? 0
    }
}
