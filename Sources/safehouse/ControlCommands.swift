import Flags
import Linux
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCI
import Runtime

extension Commands {
    /// `events ID` (`--stats`: one record): the container's events as runc prints them.
    static func events(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a)
        let (id, stats, interval) = (a.arguments[0], a.isSet("--stats"), a.value("--interval"))
        guard let seconds = ValueSyntax.duration(interval) else {
            throw CLIError("--interval: \"\(interval)\" is not a duration (use e.g. 100ms, 5s, 1m)")
        }
        guard seconds > 0 else {
            throw CLIError("--interval: \"\(interval)\": the interval must be greater than 0")
        }
        // runc's key order ({"type":..,"id":..,"data":{"cpu":..}}): scripts match on it.
        func emit(_ event: ContainerEvent) {
            if let line = try? OrderedJSON.encode(event) { print(line); fflush(nil) }
        }
        // A gvisor container's events are runsc's (this process becomes runsc).
        if try global.perform({ try $0.delegateEvents(id: id, stats: stats, interval: String(seconds)) }) { return }
        if stats {
            emit(try global.perform { try $0.stats(id: id) })
        } else {
            try global.perform { try $0.streamEvents(id: id, interval: seconds, emit: emit) }
        }
    }

    /// `update ID`: runc's flags over the limits of `--resources FILE` (or none). The
    /// numbers are read, and a bad one refused as a usage error, before anything runs.
    static func update(_ a: ParsedArguments) throws {
        let global = try GlobalSettings(a)
        let cpuShares: UInt64? = try a.integer("--cpu-share")
        let cpuQuota: Int64? = try a.integer("--cpu-quota")
        let cpuPeriod: UInt64? = try a.integer("--cpu-period")
        let cpuRtRuntime: Int64? = try a.integer("--cpu-rt-runtime")
        let cpuRtPeriod: UInt64? = try a.integer("--cpu-rt-period")
        let pidsLimit: Int64? = try a.integer("--pids-limit")
        let blkioWeight: UInt16? = try a.integer("--blkio-weight")
        let (cpusetCpus, cpusetMems) = (a.string("--cpuset-cpus"), a.string("--cpuset-mems"))
        try global.perform { runtime in
            // runc's flags; runc refuses them where resctrl is not mounted, and safehouse
            // has no resctrl support at all: refused before anything changes.
            let l3CacheSchema = a.string("--l3-cache-schema")
            if let schema = l3CacheSchema ?? a.string("--mem-bw-schema") {
                let flag = l3CacheSchema != nil ? "--l3-cache-schema" : "--mem-bw-schema"
                let mounted = Files.exists("/sys/fs/resctrl/schemata")
                throw RuntimeError("\(flag) \(schema): \(mounted ? "safehouse does not manage Intel RDT (resctrl)" : "Intel RDT is not enabled on this host (no /sys/fs/resctrl)")")
            }
            var r = try a.string("--resources").map { try ContainerRuntime.readResources($0) } ?? LinuxResources()
            // Sizes in runc's syntax (50M, -1), each refused by its flag's name.
            func size(_ flag: String) throws -> Int64? { try a.string(flag).map { try ValueSyntax.memorySize($0, field: flag) } }
            if ["--memory", "--memory-reservation", "--memory-swap", "--kernel-memory"].contains(where: { a.string($0) != nil }) {
                var m = r.memory ?? LinuxMemory()
                m.limit = try size("--memory") ?? m.limit
                m.reservation = try size("--memory-reservation") ?? m.reservation
                m.swap = try size("--memory-swap") ?? m.swap
                m.kernel = try size("--kernel-memory") ?? m.kernel
                r.memory = m
            }
            if cpuShares != nil || cpuQuota != nil || cpuPeriod != nil || cpuRtRuntime != nil || cpuRtPeriod != nil
                || cpusetCpus != nil || cpusetMems != nil {
                var c = r.cpu ?? LinuxCPU()
                c.shares = cpuShares ?? c.shares
                c.quota = cpuQuota ?? c.quota
                c.period = cpuPeriod ?? c.period
                c.realtimeRuntime = cpuRtRuntime ?? c.realtimeRuntime
                c.realtimePeriod = cpuRtPeriod ?? c.realtimePeriod
                c.cpus = cpusetCpus ?? c.cpus
                c.mems = cpusetMems ?? c.mems
                r.cpu = c
            }
            if let pidsLimit { r.pids = LinuxPids(limit: pidsLimit) }
            if let blkioWeight {
                var b = r.blockIO ?? LinuxBlockIO()
                b.weight = blkioWeight
                r.blockIO = b
            }
            try runtime.update(id: a.arguments[0], resources: r)
        }
    }
}
