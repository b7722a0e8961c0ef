import ArgumentParser
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
    @Option(help: "Seconds between stats events (\"5\" or \"5s\").") var interval: String = "5s"
    @Argument(help: "The container id.") var id: String

    func run() throws {
        let text = interval.hasSuffix("s") ? String(interval.dropLast()) : interval
        guard let seconds = Double(text), seconds > 0 else {
            throw ValidationError("--interval: \"\(interval)\" is not a positive number of seconds")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func emit(_ event: ContainerEvent) {
            if let data = try? encoder.encode(event) { print(String(decoding: data, as: UTF8.self)); fflush(nil) }
        }
        // A gvisor container's events are runsc's (this process becomes runsc).
        if try global.perform({ try $0.delegateEvents(id: id, stats: stats, interval: interval) }) { return }
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
    @Option(help: "Memory limit in bytes.") var memory: Int64?
    @Option(name: .customLong("memory-reservation"), help: "Memory soft limit in bytes.") var memoryReservation: Int64?
    @Option(name: .customLong("memory-swap"), help: "Memory plus swap limit in bytes (-1 for unlimited).") var memorySwap: Int64?
    @Option(name: .customLong("kernel-memory"), help: "Kernel memory limit (ignored where the kernel dropped it).") var kernelMemory: Int64?
    @Option(name: [.customLong("cpu-share"), .customLong("cpu-shares")], help: "CPU shares (relative weight); runc spells it --cpu-share.") var cpuShares: UInt64?
    @Option(name: .customLong("cpu-quota"), help: "CPU CFS quota in microseconds.") var cpuQuota: Int64?
    @Option(name: .customLong("cpu-period"), help: "CPU CFS period in microseconds.") var cpuPeriod: UInt64?
    @Option(name: .customLong("cpu-rt-runtime"), help: "Realtime runtime in microseconds.") var cpuRtRuntime: Int64?
    @Option(name: .customLong("cpu-rt-period"), help: "Realtime period in microseconds.") var cpuRtPeriod: UInt64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs to use (0-3, 0,1).") var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), help: "Memory nodes to use.") var cpusetMems: String?
    @Option(name: .customLong("pids-limit"), help: "Maximum number of processes (-1 or 0: no limit).") var pidsLimit: Int64?
    @Option(name: .customLong("blkio-weight"), help: "Block IO weight (10-1000).") var blkioWeight: UInt16?
    @Argument(help: "The container id.") var id: String

    func run() throws {
        try global.perform { runtime in
            var r = try resources.map { try ContainerRuntime.readResources($0) } ?? LinuxResources()
            if memory != nil || memoryReservation != nil || memorySwap != nil || kernelMemory != nil {
                var m = r.memory ?? LinuxMemory()
                if let memory { m.limit = memory }
                if let memoryReservation { m.reservation = memoryReservation }
                if let memorySwap { m.swap = memorySwap }
                if let kernelMemory { m.kernel = kernelMemory }
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
