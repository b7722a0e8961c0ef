// Tracks the OCI runtime-spec v1.2.0 (config.md "Process", config-linux scheduler/ioPriority).
//
// The decoder's mapping of `process` (see FastDecoding.swift).

extension FastDecoding {
    /// `defaultUser` stands in for an absent (not a null) `user` member.
    static func process(_ object: FastObject, defaultUser: User?) throws -> Process {
        let absentUser = object.members["user"] == nil ? defaultUser : nil
        return Process(
            terminal: try object.optional("terminal", Fast.bool),
            consoleSize: try object.optionalObject("consoleSize", box),
            user: try absentUser ?? object.required("user") { try user(Fast.object($0)) },
            args: try object.optional("args", Fast.strings),
            commandLine: try object.optional("commandLine", Fast.string),
            env: try object.optional("env", Fast.strings),
            cwd: try object.required("cwd", Fast.string),
            capabilities: try object.optionalObject("capabilities", capabilities),
            rlimits: try object.optional("rlimits") { try Fast.objects($0, rlimit) },
            noNewPrivileges: try object.optional("noNewPrivileges", Fast.bool),
            apparmorProfile: try object.optional("apparmorProfile", Fast.string),
            oomScoreAdj: try object.optional("oomScoreAdj", Fast.integer),
            selinuxLabel: try object.optional("selinuxLabel", Fast.string),
            ioPriority: try object.optionalObject("ioPriority", ioPriority),
            scheduler: try object.optionalObject("scheduler", scheduler),
            execCPUAffinity: try object.optionalObject("execCPUAffinity", cpuAffinity)
        )
    }

    static func box(_ object: FastObject) throws -> Box {
        Box(height: try object.required("height", Fast.integer), width: try object.required("width", Fast.integer))
    }

    static func user(_ object: FastObject) throws -> User {
        User(
            uid: try object.required("uid", Fast.integer),
            gid: try object.required("gid", Fast.integer),
            umask: try object.optional("umask", Fast.integer),
            additionalGids: try object.optional("additionalGids") { try Fast.array($0, Fast.integer) },
            username: try object.optional("username", Fast.string)
        )
    }

    static func capabilities(_ object: FastObject) throws -> LinuxCapabilities {
        LinuxCapabilities(
            bounding: try object.optional("bounding", Fast.strings),
            effective: try object.optional("effective", Fast.strings),
            inheritable: try object.optional("inheritable", Fast.strings),
            permitted: try object.optional("permitted", Fast.strings),
            ambient: try object.optional("ambient", Fast.strings)
        )
    }

    static func rlimit(_ object: FastObject) throws -> POSIXRlimit {
        POSIXRlimit(
            type: try object.required("type", Fast.string),
            hard: try object.required("hard", Fast.integer),
            soft: try object.required("soft", Fast.integer)
        )
    }

    static func ioPriority(_ object: FastObject) throws -> LinuxIOPriority {
        LinuxIOPriority(
            class: try object.required("class", Fast.term),
            priority: try object.required("priority", Fast.integer)
        )
    }

    static func scheduler(_ object: FastObject) throws -> Scheduler {
        Scheduler(
            policy: try object.required("policy", Fast.term),
            nice: try object.optional("nice", Fast.integer),
            priority: try object.optional("priority", Fast.integer),
            flags: try object.optional("flags") { try Fast.array($0, Fast.term) },
            runtime: try object.optional("runtime", Fast.integer),
            deadline: try object.optional("deadline", Fast.integer),
            period: try object.optional("period", Fast.integer)
        )
    }

    static func cpuAffinity(_ object: FastObject) throws -> CPUAffinity {
        CPUAffinity(initial: try object.optional("initial", Fast.string), final: try object.optional("final", Fast.string))
    }
}
