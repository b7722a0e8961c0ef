import ArgumentParser
import Linux
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import OCI
import Runtime

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Freeze every process of a running container.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The container id.") var id: String
    func run() throws { try global.perform { try $0.pause(id: id) } }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Thaw a paused container.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The container id.") var id: String
    func run() throws { try global.perform { try $0.resume(id: id) } }
}

struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print resource statistics (and OOM events) as JSON lines, in runc's shape.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one stats event and exit.") var stats = false
    @Option(help: "Time between stats events, a Go duration (\"100ms\", \"5s\", \"1m\"); a bare number is seconds.") var interval: String = "5s"
    @Argument(help: "The container id.") var id: String

    func run() throws {
        guard let seconds = ValueSyntax.duration(interval) else {
            throw ValidationError("--interval: \"\(interval)\" is not a duration (use e.g. 100ms, 5s, 1m)")
        }
        guard seconds > 0 else {
            throw ValidationError("--interval: \"\(interval)\": the interval must be greater than 0")
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

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change the resource limits of a running container.",
        discussion: "--resources FILE (or - for stdin) takes a linux.resources object; the flags set single values on top of it.")
    @OptionGroup var global: GlobalOptions
    @Option(name: [.customShort("r"), .long], help: "A linux.resources JSON file, or - for stdin.") var resources: String?
    // Values are taken unconditionally (`--cpu-quota -1`, `--memory-swap -1`): runc
    // (urfave/cli) reads the next word as the value even when it starts with a dash.
    // Memory values take go-units sizes ("50M", "1.5g") as runc's do.
    @Option(parsing: .unconditional, help: "Memory limit in bytes, or with a unit (50M, 1g); -1 for unlimited.")
    var memory: String?
    @Option(name: .customLong("memory-reservation"), parsing: .unconditional, help: "Memory soft limit (bytes or 50M, 1g).")
    var memoryReservation: String?
    @Option(name: .customLong("memory-swap"), parsing: .unconditional, help: "Memory plus swap limit (bytes or 50M, 1g); -1 for unlimited.")
    var memorySwap: String?
    @Option(name: .customLong("kernel-memory"), parsing: .unconditional, help: "Kernel memory limit (ignored where the kernel dropped it).")
    var kernelMemory: String?
    @Option(name: [.customLong("cpu-share"), .customLong("cpu-shares")], parsing: .unconditional, help: "CPU shares (relative weight); runc spells it --cpu-share.") var cpuShares: UInt64?
    @Option(name: .customLong("cpu-quota"), parsing: .unconditional, help: "CPU CFS quota in microseconds (-1 for unlimited).") var cpuQuota: Int64?
    @Option(name: .customLong("cpu-period"), parsing: .unconditional, help: "CPU CFS period in microseconds.") var cpuPeriod: UInt64?
    @Option(name: .customLong("cpu-rt-runtime"), parsing: .unconditional, help: "Realtime runtime in microseconds.") var cpuRtRuntime: Int64?
    @Option(name: .customLong("cpu-rt-period"), parsing: .unconditional, help: "Realtime period in microseconds.") var cpuRtPeriod: UInt64?
    @Option(name: .customLong("cpuset-cpus"), parsing: .unconditional, help: "CPUs to use (0-3, 0,1).") var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), parsing: .unconditional, help: "Memory nodes to use.") var cpusetMems: String?
    @Option(name: .customLong("pids-limit"), parsing: .unconditional, help: "Maximum number of processes (-1 or 0: no limit).") var pidsLimit: Int64?
    @Option(name: .customLong("blkio-weight"), parsing: .unconditional, help: "Block IO weight (10-1000).") var blkioWeight: UInt16?
    @Option(name: .customLong("l3-cache-schema"), help: "Intel RDT/CAT L3 cache schema (refused: safehouse does not manage resctrl).") var l3CacheSchema: String?
    @Option(name: .customLong("mem-bw-schema"), help: "Intel RDT/MBA memory bandwidth schema (refused: safehouse does not manage resctrl).") var memBwSchema: String?
    @Argument(help: "The container id.") var id: String

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
