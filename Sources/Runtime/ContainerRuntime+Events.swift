import ContainerCore
import Cgroups
import FoundationEssentials
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// One line of `events`, in runc's shape: {"type":"stats","id":ID,"data":{...}} or
/// {"type":"oom","id":ID}.
public struct ContainerEvent: Encodable, Sendable {
    public var type: String
    public var id: String
    public var data: CgroupStats?
}

extension ContainerRuntime {
    /// The container's current resource statistics.
    public func stats(id: String) throws -> ContainerEvent {
        let record = try existing(id)
        try status(of: record).canUpdate(id)
        return ContainerEvent(type: "stats", id: id, data: native.cgroupManager(of: record).stats())
    }

    /// `events` without --stats: a stats event every `interval` seconds and an `oom`
    /// event whenever the OOM-kill count grows, until the container stops.
    public func streamEvents(id: String, interval: Double, emit: (ContainerEvent) -> Void) throws {
        let record = try existing(id)
        let manager = native.cgroupManager(of: record)
        var ooms = manager.oomEventCount()
        var nextStats = 0.0
        let tick = min(interval, 0.2)
        while status(of: record) != .stopped {
            let count = manager.oomEventCount()
            if count > ooms {
                ooms = count
                emit(ContainerEvent(type: "oom", id: id, data: nil))
            }
            if nextStats <= 0 {
                emit(ContainerEvent(type: "stats", id: id, data: manager.stats()))
                nextStats = interval
            }
            usleep(UInt32(tick * 1_000_000))
            nextStats -= tick
        }
        // An OOM kill is often what stopped it: report it before the stream ends.
        if manager.oomEventCount() > ooms { emit(ContainerEvent(type: "oom", id: id, data: nil)) }
    }
}
