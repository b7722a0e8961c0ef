// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Control groups").
//
// The decoder's mapping of `linux.resources` (see FastDecoding.swift). The integer
// widths are those of the Swift fields; a value outside them is refused.

extension FastDecoding {
    static func resources(_ tree: JSONTree) throws -> LinuxResources {
        try resources(Fast.object(tree))
    }

    static func resources(_ object: FastObject) throws -> LinuxResources {
        LinuxResources(
            devices: try object.optional("devices") { try Fast.array($0, deviceCgroup) },
            memory: try object.optional("memory", memory),
            cpu: try object.optional("cpu", cpu),
            pids: try object.optional("pids") { LinuxPids(limit: try Fast.object($0).required("limit", Fast.int64)) },
            blockIO: try object.optional("blockIO", blockIO),
            hugepageLimits: try object.optional("hugepageLimits") { try Fast.array($0, hugepageLimit) },
            network: try object.optional("network", network),
            rdma: try object.optional("rdma") { try Fast.map($0, rdma) },
            unified: try object.optional("unified", Fast.stringMap)
        )
    }

    static func deviceCgroup(_ tree: JSONTree) throws -> LinuxDeviceCgroup {
        let object = try Fast.object(tree)
        return LinuxDeviceCgroup(
            allow: try object.required("allow", Fast.bool),
            type: try object.optional("type", Fast.string),
            major: try object.optional("major", Fast.int64),
            minor: try object.optional("minor", Fast.int64),
            access: try object.optional("access", Fast.string)
        )
    }

    static func memory(_ tree: JSONTree) throws -> LinuxMemory {
        let object = try Fast.object(tree)
        return LinuxMemory(
            limit: try object.optional("limit", Fast.int64),
            reservation: try object.optional("reservation", Fast.int64),
            swap: try object.optional("swap", Fast.int64),
            kernel: try object.optional("kernel", Fast.int64),
            kernelTCP: try object.optional("kernelTCP", Fast.int64),
            swappiness: try object.optional("swappiness", Fast.uint64),
            disableOOMKiller: try object.optional("disableOOMKiller", Fast.bool),
            useHierarchy: try object.optional("useHierarchy", Fast.bool),
            checkBeforeUpdate: try object.optional("checkBeforeUpdate", Fast.bool)
        )
    }

    static func cpu(_ tree: JSONTree) throws -> LinuxCPU {
        let object = try Fast.object(tree)
        return LinuxCPU(
            shares: try object.optional("shares", Fast.uint64),
            quota: try object.optional("quota", Fast.int64),
            burst: try object.optional("burst", Fast.uint64),
            period: try object.optional("period", Fast.uint64),
            realtimeRuntime: try object.optional("realtimeRuntime", Fast.int64),
            realtimePeriod: try object.optional("realtimePeriod", Fast.uint64),
            cpus: try object.optional("cpus", Fast.string),
            mems: try object.optional("mems", Fast.string),
            idle: try object.optional("idle", Fast.int64)
        )
    }

    static func blockIO(_ tree: JSONTree) throws -> LinuxBlockIO {
        let object = try Fast.object(tree)
        return LinuxBlockIO(
            weight: try object.optional("weight", Fast.uint16),
            leafWeight: try object.optional("leafWeight", Fast.uint16),
            weightDevice: try object.optional("weightDevice") { try Fast.array($0, weightDevice) },
            throttleReadBpsDevice: try object.optional("throttleReadBpsDevice", throttleDevices),
            throttleWriteBpsDevice: try object.optional("throttleWriteBpsDevice", throttleDevices),
            throttleReadIOPSDevice: try object.optional("throttleReadIOPSDevice", throttleDevices),
            throttleWriteIOPSDevice: try object.optional("throttleWriteIOPSDevice", throttleDevices)
        )
    }

    static func weightDevice(_ tree: JSONTree) throws -> LinuxWeightDevice {
        let object = try Fast.object(tree)
        return LinuxWeightDevice(
            major: try object.required("major", Fast.int64),
            minor: try object.required("minor", Fast.int64),
            weight: try object.optional("weight", Fast.uint16),
            leafWeight: try object.optional("leafWeight", Fast.uint16)
        )
    }

    static func throttleDevices(_ tree: JSONTree) throws -> [LinuxThrottleDevice] {
        try Fast.array(tree) { element in
            let object = try Fast.object(element)
            return LinuxThrottleDevice(
                major: try object.required("major", Fast.int64),
                minor: try object.required("minor", Fast.int64),
                rate: try object.required("rate", Fast.uint64)
            )
        }
    }

    static func hugepageLimit(_ tree: JSONTree) throws -> LinuxHugepageLimit {
        let object = try Fast.object(tree)
        return LinuxHugepageLimit(pageSize: try object.required("pageSize", Fast.string), limit: try object.required("limit", Fast.uint64))
    }

    static func network(_ tree: JSONTree) throws -> LinuxNetwork {
        let object = try Fast.object(tree)
        return LinuxNetwork(
            classID: try object.optional("classID", Fast.uint32),
            priorities: try object.optional("priorities") { tree in
                try Fast.array(tree) { element in
                    let priority = try Fast.object(element)
                    return LinuxInterfacePriority(
                        name: try priority.required("name", Fast.string),
                        priority: try priority.required("priority", Fast.uint32)
                    )
                }
            }
        )
    }

    static func rdma(_ tree: JSONTree) throws -> LinuxRdma {
        let object = try Fast.object(tree)
        return LinuxRdma(hcaHandles: try object.optional("hcaHandles", Fast.uint32), hcaObjects: try object.optional("hcaObjects", Fast.uint32))
    }
}
