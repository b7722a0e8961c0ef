// Tracks the OCI runtime-spec v1.2.0 (config-linux.md).
//
// The decoder's mapping of `linux` apart from resources and seccomp, which have
// their own files (see FastDecoding.swift).

extension FastDecoding {
    static func linux(_ object: FastObject) throws -> LinuxConfig {
        LinuxConfig(
            uidMappings: try object.optional("uidMappings", idMappings),
            gidMappings: try object.optional("gidMappings", idMappings),
            timeOffsets: try object.optional("timeOffsets") { try Fast.objectMap($0, timeOffset) },
            sysctl: try object.optional("sysctl", Fast.stringMap),
            resources: try object.optionalObject("resources", resources),
            cgroupsPath: try object.optional("cgroupsPath", Fast.string),
            namespaces: try object.optional("namespaces") { try Fast.objects($0, namespace) },
            devices: try object.optional("devices") { try Fast.objects($0, device) },
            seccomp: try object.optionalObject("seccomp", seccomp),
            rootfsPropagation: try object.optional("rootfsPropagation", Fast.string),
            maskedPaths: try object.optional("maskedPaths", Fast.strings),
            readonlyPaths: try object.optional("readonlyPaths", Fast.strings),
            mountLabel: try object.optional("mountLabel", Fast.string),
            intelRdt: try object.optionalObject("intelRdt", intelRdt),
            personality: try object.optionalObject("personality", personality),
            netDevices: try object.optional("netDevices") { try Fast.objectMap($0, netDevice) }
        )
    }

    static func timeOffset(_ object: FastObject) throws -> LinuxTimeOffset {
        LinuxTimeOffset(secs: try object.optional("secs", Fast.integer), nanosecs: try object.optional("nanosecs", Fast.integer))
    }

    static func namespace(_ object: FastObject) throws -> LinuxNamespace {
        LinuxNamespace(
            type: try object.required("type", Fast.term),
            path: try object.optional("path", Fast.string)
        )
    }

    static func device(_ object: FastObject) throws -> LinuxDevice {
        LinuxDevice(
            path: try object.required("path", Fast.string),
            type: try object.required("type", Fast.string),
            major: try object.optional("major", Fast.integer),
            minor: try object.optional("minor", Fast.integer),
            fileMode: try object.optional("fileMode", Fast.integer),
            uid: try object.optional("uid", Fast.integer),
            gid: try object.optional("gid", Fast.integer)
        )
    }

    static func intelRdt(_ object: FastObject) throws -> LinuxIntelRdt {
        LinuxIntelRdt(
            closID: try object.optional("closID", Fast.string),
            l3CacheSchema: try object.optional("l3CacheSchema", Fast.string),
            memBwSchema: try object.optional("memBwSchema", Fast.string),
            enableCMT: try object.optional("enableCMT", Fast.bool),
            enableMBM: try object.optional("enableMBM", Fast.bool)
        )
    }

    static func personality(_ object: FastObject) throws -> LinuxPersonality {
        LinuxPersonality(
            domain: try object.required("domain", Fast.term),
            flags: try object.optional("flags", Fast.strings)
        )
    }

    static func netDevice(_ object: FastObject) throws -> LinuxNetDevice {
        LinuxNetDevice(name: try object.optional("name", Fast.string))
    }
}
