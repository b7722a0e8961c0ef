// Tracks the OCI runtime-spec v1.2.0 (config-linux.md "Control groups").
//
// The decoder's mapping of `linux.resources` (see FastDecoding.swift). The integer
// widths are those of the Swift fields; a value outside them is refused.

extension FastDecoding {
    static func resources(_ object: FastObject) throws -> LinuxResources {
        LinuxResources(
            devices: try object.optional("devices") { try Fast.objects($0, deviceCgroup) },
            memory: try object.optionalObject("memory", memory),
            cpu: try object.optionalObject("cpu", cpu),
            pids: try object.optionalObject("pids") { LinuxPids(limit: try $0.required("limit", Fast.integer)) },
            blockIO: try object.optionalObject("blockIO", blockIO),
            hugepageLimits: try object.optional("hugepageLimits") { try Fast.objects($0, hugepageLimit) },
            network: try object.optionalObject("network", network),
            rdma: try object.optional("rdma") { try Fast.objectMap($0, rdma) },
            unified: try object.optional("unified", Fast.stringMap)
        )
    }

    static func deviceCgroup(_ object: FastObject) throws -> LinuxDeviceCgroup {
        LinuxDeviceCgroup(
            allow: try object.required("allow", Fast.bool),
            type: try object.optional("type", Fast.string),
            major: try object.optional("major", Fast.integer),
            minor: try object.optional("minor", Fast.integer),
            access: try object.optional("access", Fast.string)
        )
    }

    static func memory(_ object: FastObject) throws -> LinuxMemory {
        LinuxMemory(
            limit: try object.optional("limit", Fast.integer),
            reservation: try object.optional("reservation", Fast.integer),
            swap: try object.optional("swap", Fast.integer),
            kernel: try object.optional("kernel", Fast.integer),
            kernelTCP: try object.optional("kernelTCP", Fast.integer),
            swappiness: try object.optional("swappiness", Fast.integer),
            disableOOMKiller: try object.optional("disableOOMKiller", Fast.bool),
            useHierarchy: try object.optional("useHierarchy", Fast.bool),
            checkBeforeUpdate: try object.optional("checkBeforeUpdate", Fast.bool)
        )
    }

    static func cpu(_ object: FastObject) throws -> LinuxCPU {
        LinuxCPU(
            shares: try object.optional("shares", Fast.integer),
            quota: try object.optional("quota", Fast.integer),
            burst: try object.optional("burst", Fast.integer),
            period: try object.optional("period", Fast.integer),
            realtimeRuntime: try object.optional("realtimeRuntime", Fast.integer),
            realtimePeriod: try object.optional("realtimePeriod", Fast.integer),
            cpus: try object.optional("cpus", Fast.string),
            mems: try object.optional("mems", Fast.string),
            idle: try object.optional("idle", Fast.integer)
        )
    }

    static func blockIO(_ object: FastObject) throws -> LinuxBlockIO {
        LinuxBlockIO(
            weight: try object.optional("weight", Fast.integer),
            leafWeight: try object.optional("leafWeight", Fast.integer),
            weightDevice: try object.optional("weightDevice") { try Fast.objects($0, weightDevice) },
            throttleReadBpsDevice: try object.optional("throttleReadBpsDevice", throttleDevices),
            throttleWriteBpsDevice: try object.optional("throttleWriteBpsDevice", throttleDevices),
            throttleReadIOPSDevice: try object.optional("throttleReadIOPSDevice", throttleDevices),
            throttleWriteIOPSDevice: try object.optional("throttleWriteIOPSDevice", throttleDevices)
        )
    }

    static func weightDevice(_ object: FastObject) throws -> LinuxWeightDevice {
        LinuxWeightDevice(
            major: try object.required("major", Fast.integer),
            minor: try object.required("minor", Fast.integer),
            weight: try object.optional("weight", Fast.integer),
            leafWeight: try object.optional("leafWeight", Fast.integer)
        )
    }

    static func throttleDevices(_ tree: JSONTree) throws -> [LinuxThrottleDevice] {
        try Fast.objects(tree) { object in
            LinuxThrottleDevice(
                major: try object.required("major", Fast.integer),
                minor: try object.required("minor", Fast.integer),
                rate: try object.required("rate", Fast.integer)
            )
        }
    }

    static func hugepageLimit(_ object: FastObject) throws -> LinuxHugepageLimit {
        LinuxHugepageLimit(pageSize: try object.required("pageSize", Fast.string), limit: try object.required("limit", Fast.integer))
    }

    static func network(_ object: FastObject) throws -> LinuxNetwork {
        LinuxNetwork(
            classID: try object.optional("classID", Fast.integer),
            priorities: try object.optional("priorities") { tree in
                try Fast.objects(tree) { priority in
                    LinuxInterfacePriority(
                        name: try priority.required("name", Fast.string),
                        priority: try priority.required("priority", Fast.integer)
                    )
                }
            }
        )
    }

    static func rdma(_ object: FastObject) throws -> LinuxRdma {
        LinuxRdma(hcaHandles: try object.optional("hcaHandles", Fast.integer), hcaObjects: try object.optional("hcaObjects", Fast.integer))
    }
}
