import Flags
import Linux
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCI
import Runtime

struct Events: Command {
    let global: GlobalSettings
    let stats: Bool
    let interval: String
    let id: String

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        stats = a.isSet("--stats")
        interval = a.value("--interval")
        id = a.arguments[0]
    }

    func run() throws {
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
}

struct Update: Command {
    let global: GlobalSettings
    let resources: String?
    let memory: String?
    let memoryReservation: String?
    let memorySwap: String?
    let kernelMemory: String?
    let cpuShares: UInt64?
    let cpuQuota: Int64?
    let cpuPeriod: UInt64?
    let cpuRtRuntime: Int64?
    let cpuRtPeriod: UInt64?
    let cpusetCpus: String?
    let cpusetMems: String?
    let pidsLimit: Int64?
    let blkioWeight: UInt16?
    let l3CacheSchema: String?
    let memBwSchema: String?
    let id: String

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        resources = a.string("--resources")
        memory = a.string("--memory")
        memoryReservation = a.string("--memory-reservation")
        memorySwap = a.string("--memory-swap")
        kernelMemory = a.string("--kernel-memory")
        cpuShares = try a.integer("--cpu-share")
        cpuQuota = try a.integer("--cpu-quota")
        cpuPeriod = try a.integer("--cpu-period")
        cpuRtRuntime = try a.integer("--cpu-rt-runtime")
        cpuRtPeriod = try a.integer("--cpu-rt-period")
        cpusetCpus = a.string("--cpuset-cpus")
        cpusetMems = a.string("--cpuset-mems")
        pidsLimit = try a.integer("--pids-limit")
        blkioWeight = try a.integer("--blkio-weight")
        l3CacheSchema = a.string("--l3-cache-schema")
        memBwSchema = a.string("--mem-bw-schema")
        id = a.arguments[0]
    }

    func run() throws {
        try global.perform { runtime in
            // runc's flags; runc refuses them where resctrl is not mounted, and safehouse
            // has no resctrl support at all: refused before anything changes.
            if let schema = l3CacheSchema ?? memBwSchema {
                let flag = l3CacheSchema != nil ? "--l3-cache-schema" : "--mem-bw-schema"
                let mounted = Files.exists("/sys/fs/resctrl/schemata")
                throw RuntimeError("\(flag) \(schema): \(mounted ? "safehouse does not manage Intel RDT (resctrl)" : "Intel RDT is not enabled on this host (no /sys/fs/resctrl)")")
            }
            var r = try resources.map { try ContainerRuntime.readResources($0) } ?? LinuxResources()
            if memory != nil || memoryReservation != nil || memorySwap != nil || kernelMemory != nil {
                var m = r.memory ?? LinuxMemory()
                if let memory { m.limit = try ValueSyntax.memorySize(memory, field: "--memory") }
                if let memoryReservation { m.reservation = try ValueSyntax.memorySize(memoryReservation, field: "--memory-reservation") }
                if let memorySwap { m.swap = try ValueSyntax.memorySize(memorySwap, field: "--memory-swap") }
                if let kernelMemory { m.kernel = try ValueSyntax.memorySize(kernelMemory, field: "--kernel-memory") }
                r.memory = m
            }
            if cpuShares != nil || cpuQuota != nil || cpuPeriod != nil || cpuRtRuntime != nil || cpuRtPeriod != nil
                || cpusetCpus != nil || cpusetMems != nil {
                var c = r.cpu ?? LinuxCPU()
                if let cpuShares { c.shares = cpuShares }
                if let cpuQuota { c.quota = cpuQuota }
                if let cpuPeriod { c.period = cpuPeriod }
                if let cpuRtRuntime { c.realtimeRuntime = cpuRtRuntime }
                if let cpuRtPeriod { c.realtimePeriod = cpuRtPeriod }
                if let cpusetCpus { c.cpus = cpusetCpus }
                if let cpusetMems { c.mems = cpusetMems }
                r.cpu = c
            }
            if let pidsLimit { r.pids = LinuxPids(limit: pidsLimit) }
            if let blkioWeight {
                var b = r.blockIO ?? LinuxBlockIO()
                b.weight = blkioWeight
                r.blockIO = b
            }
            try runtime.update(id: id, resources: r)
        }
    }
}
