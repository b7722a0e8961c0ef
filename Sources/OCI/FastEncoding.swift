// Tracks the OCI runtime-spec v1.2.0.
//
// The one encoder of a `Spec` and its parts, the mirror of FastDecoding. `agent run`
// writes the spec it generates to its bundle once per sandbox, in a fresh process, and
// a cold JSONEncoder spent 5.8M instructions on it (callgrind: generic metadata and
// conformance lookups for every Codable type of the spec), more than the rest of the
// command's own work. This writes the document by hand: compact, members in
// declaration order, maps with sorted keys, absent optionals left out (as
// JSONEncoder's encodeIfPresent leaves them out), through FlatJSONWriter.
//
// Every property of every type must be written here: FastEncodingTests decodes the
// output of the golden fixture (every property set) and of 200 pruned variants with
// JSONDecoder, the Codable oracle, and requires the same value back.

import FoundationEssentials

extension Spec {
    /// This configuration as compact JSON (what `agent run` writes to its bundle).
    public func compactJSON() -> [UInt8] {
        FlatJSONWriter.document(self) { $0.write($1) }
    }

    /// The configuration as indented JSON with sorted keys, for people to read (`agent
    /// spec`): JSONEncoder's `.prettyPrinted` layout, two spaces and `"key" : value`.
    /// The writer's own output always parses; the fallback is unreachable.
    public func encodedJSON() -> Data {
        let compact = compactJSON()
        guard let tree = try? JSONTreeParser.parse(compact) else { return Data(compact) }
        var out = ""
        CanonicalJSON.write(tree, pretty: true, to: &out)
        return Data(out.utf8)
    }
}

extension Process {
    /// This process as compact JSON (the `--process` file `runsc exec` reads).
    public func compactJSON() -> [UInt8] {
        FlatJSONWriter.document(self) { $0.write($1) }
    }
}

extension LinuxResources {
    /// These resources as compact JSON (the `--resources` file `update` reads).
    public func compactJSON() -> [UInt8] {
        FlatJSONWriter.document(self) { $0.write($1) }
    }
}

/// The spec's members, written into a `FlatJSONWriter` (the writer of the runtime's
/// flat documents): nested objects, optionals left out, maps with sorted keys. Loops
/// rather than map/joined: the generic joined(separator:)'s first use costs a cold
/// process ~200K instructions of metadata (callgrind), and `run` writes its state
/// through these.
extension FlatJSONWriter {
    /// `value` as a document: one object whose members `body` writes.
    static func document<T>(_ value: T, _ body: (inout FlatJSONWriter, T) -> Void) -> [UInt8] {
        var w = FlatJSONWriter()
        body(&w, value)
        return w.bytes
    }

    /// `value` as an object whose members `body` writes, after its member's key.
    mutating func members<T>(_ value: T, _ body: (inout FlatJSONWriter, T) -> Void) {
        text += "{"
        first = true
        body(&self, value)
        text += "}"
        first = false   // the enclosing object has a member: this one
    }

    mutating func string(_ name: String, _ value: String?) {
        scalar(name, value.map(FlatJSONWriter.quoted))
    }

    mutating func bool(_ name: String, _ value: Bool?) {
        scalar(name, value.map { $0 ? "true" : "false" })
    }

    mutating func number<N: BinaryInteger>(_ name: String, _ value: N?) {
        scalar(name, value.map { String($0) })
    }

    /// A member whose value is the JSON text `text`, left out when nil.
    mutating func scalar(_ name: String, _ json: String?) {
        guard let json else { return }
        key(name)
        text += json
    }

    mutating func strings(_ name: String, _ values: [String]?) {
        array(name, values) { w, s in w.text += FlatJSONWriter.quoted(s) }
    }

    mutating func numbers<N: BinaryInteger>(_ name: String, _ values: [N]?) {
        array(name, values) { w, n in w.text += String(n) }
    }

    /// A member whose value is an object `body` fills in.
    mutating func object<T>(_ name: String, _ value: T?, _ body: (inout FlatJSONWriter, T) -> Void) {
        guard let value else { return }
        key(name)
        members(value, body)
    }

    /// An array member; `element` writes one value.
    mutating func array<T>(_ name: String, _ values: [T]?, _ element: (inout FlatJSONWriter, T) -> Void) {
        guard let values else { return }
        key(name)
        text += "["
        for (i, v) in values.enumerated() {
            if i > 0 { text += "," }
            element(&self, v)
        }
        text += "]"
    }

    /// An array of objects.
    mutating func objects<T>(_ name: String, _ values: [T]?, _ body: (inout FlatJSONWriter, T) -> Void) {
        array(name, values) { $0.members($1, body) }
    }

    /// A map member, keys sorted (the same spec always makes the same bytes).
    mutating func map<T>(_ name: String, _ values: [String: T]?, _ element: (inout FlatJSONWriter, T) -> Void) {
        guard let values else { return }
        key(name)
        text += "{"
        for (i, k) in values.keys.sorted().enumerated() {
            if i > 0 { text += "," }
            text += FlatJSONWriter.quoted(k) + ":"
            element(&self, values[k]!)
        }
        text += "}"
    }

    /// A map whose values are objects.
    mutating func objectMap<T>(_ name: String, _ values: [String: T]?, _ body: (inout FlatJSONWriter, T) -> Void) {
        map(name, values) { $0.members($1, body) }
    }

    mutating func stringMap(_ name: String, _ values: [String: String]?) {
        map(name, values) { w, s in w.text += FlatJSONWriter.quoted(s) }
    }
}

extension FlatJSONWriter {
    mutating func write(_ s: Spec) {
        string("ociVersion", s.ociVersion)
        object("process", s.process) { $0.write($1) }
        object("root", s.root) { w, r in
            w.string("path", r.path)
            w.bool("readonly", r.readonly)
        }
        string("hostname", s.hostname)
        string("domainname", s.domainname)
        objects("mounts", s.mounts) { $0.write($1) }
        object("hooks", s.hooks) { w, h in
            for (name, list) in [("prestart", h.prestart), ("createRuntime", h.createRuntime),
                                 ("createContainer", h.createContainer), ("startContainer", h.startContainer),
                                 ("poststart", h.poststart), ("poststop", h.poststop)] {
                w.objects(name, list) { w, hook in
                    w.string("path", hook.path)
                    w.strings("args", hook.args)
                    w.strings("env", hook.env)
                    w.number("timeout", hook.timeout)
                }
            }
        }
        stringMap("annotations", s.annotations)
        object("linux", s.linux) { $0.write($1) }
    }

    mutating func write(_ p: Process) {
        bool("terminal", p.terminal)
        object("consoleSize", p.consoleSize) { w, b in
            w.number("height", b.height)
            w.number("width", b.width)
        }
        object("user", p.user) { w, u in
            w.number("uid", u.uid)
            w.number("gid", u.gid)
            w.number("umask", u.umask)
            w.numbers("additionalGids", u.additionalGids)
            w.string("username", u.username)
        }
        strings("args", p.args)
        string("commandLine", p.commandLine)
        strings("env", p.env)
        string("cwd", p.cwd)
        object("capabilities", p.capabilities) { w, c in
            w.strings("bounding", c.bounding)
            w.strings("effective", c.effective)
            w.strings("inheritable", c.inheritable)
            w.strings("permitted", c.permitted)
            w.strings("ambient", c.ambient)
        }
        objects("rlimits", p.rlimits) { w, r in
            w.string("type", r.type)
            w.number("hard", r.hard)
            w.number("soft", r.soft)
        }
        bool("noNewPrivileges", p.noNewPrivileges)
        string("apparmorProfile", p.apparmorProfile)
        number("oomScoreAdj", p.oomScoreAdj)
        string("selinuxLabel", p.selinuxLabel)
        object("ioPriority", p.ioPriority) { w, io in
            w.string("class", io.class.rawValue)
            w.number("priority", io.priority)
        }
        object("scheduler", p.scheduler) { w, s in
            w.string("policy", s.policy.rawValue)
            w.number("nice", s.nice)
            w.number("priority", s.priority)
            w.strings("flags", s.flags?.map(\.rawValue))
            w.number("runtime", s.runtime)
            w.number("deadline", s.deadline)
            w.number("period", s.period)
        }
        object("execCPUAffinity", p.execCPUAffinity) { w, a in
            w.string("initial", a.initial)
            w.string("final", a.final)
        }
    }

    mutating func write(_ m: Mount) {
        string("destination", m.destination)
        string("type", m.type)
        string("source", m.source)
        strings("options", m.options)
        objects("uidMappings", m.uidMappings) { $0.write($1) }
        objects("gidMappings", m.gidMappings) { $0.write($1) }
    }

    mutating func write(_ m: LinuxIDMapping) {
        number("containerID", m.containerID)
        number("hostID", m.hostID)
        number("size", m.size)
    }

    mutating func write(_ l: LinuxConfig) {
        objects("uidMappings", l.uidMappings) { $0.write($1) }
        objects("gidMappings", l.gidMappings) { $0.write($1) }
        objectMap("timeOffsets", l.timeOffsets) { w, t in
            w.number("secs", t.secs)
            w.number("nanosecs", t.nanosecs)
        }
        stringMap("sysctl", l.sysctl)
        object("resources", l.resources) { $0.write($1) }
        string("cgroupsPath", l.cgroupsPath)
        objects("namespaces", l.namespaces) { w, n in
            w.string("type", n.type.rawValue)
            w.string("path", n.path)
        }
        objects("devices", l.devices) { w, d in
            w.string("path", d.path)
            w.string("type", d.type)
            w.number("major", d.major)
            w.number("minor", d.minor)
            w.number("fileMode", d.fileMode)
            w.number("uid", d.uid)
            w.number("gid", d.gid)
        }
        object("seccomp", l.seccomp) { $0.write($1) }
        string("rootfsPropagation", l.rootfsPropagation)
        strings("maskedPaths", l.maskedPaths)
        strings("readonlyPaths", l.readonlyPaths)
        string("mountLabel", l.mountLabel)
        object("intelRdt", l.intelRdt) { w, r in
            w.string("closID", r.closID)
            w.string("l3CacheSchema", r.l3CacheSchema)
            w.string("memBwSchema", r.memBwSchema)
            w.bool("enableCMT", r.enableCMT)
            w.bool("enableMBM", r.enableMBM)
        }
        object("personality", l.personality) { w, p in
            w.string("domain", p.domain.rawValue)
            w.strings("flags", p.flags)
        }
        objectMap("netDevices", l.netDevices) { w, d in w.string("name", d.name) }
    }

    mutating func write(_ s: LinuxSeccomp) {
        string("defaultAction", s.defaultAction.rawValue)
        number("defaultErrnoRet", s.defaultErrnoRet)
        strings("architectures", s.architectures)
        strings("flags", s.flags)
        string("listenerPath", s.listenerPath)
        string("listenerMetadata", s.listenerMetadata)
        objects("syscalls", s.syscalls) { w, c in
            w.strings("names", c.names)
            w.string("action", c.action.rawValue)
            w.number("errnoRet", c.errnoRet)
            w.objects("args", c.args) { w, a in
                w.number("index", a.index)
                w.number("value", a.value)
                w.number("valueTwo", a.valueTwo)
                w.string("op", a.op.rawValue)
            }
        }
    }

    mutating func write(_ r: LinuxResources) {
        objects("devices", r.devices) { w, d in
            w.bool("allow", d.allow)
            w.string("type", d.type)
            w.number("major", d.major)
            w.number("minor", d.minor)
            w.string("access", d.access)
        }
        object("memory", r.memory) { w, m in
            w.number("limit", m.limit)
            w.number("reservation", m.reservation)
            w.number("swap", m.swap)
            w.number("kernel", m.kernel)
            w.number("kernelTCP", m.kernelTCP)
            w.number("swappiness", m.swappiness)
            w.bool("disableOOMKiller", m.disableOOMKiller)
            w.bool("useHierarchy", m.useHierarchy)
            w.bool("checkBeforeUpdate", m.checkBeforeUpdate)
        }
        object("cpu", r.cpu) { w, c in
            w.number("shares", c.shares)
            w.number("quota", c.quota)
            w.number("burst", c.burst)
            w.number("period", c.period)
            w.number("realtimeRuntime", c.realtimeRuntime)
            w.number("realtimePeriod", c.realtimePeriod)
            w.string("cpus", c.cpus)
            w.string("mems", c.mems)
            w.number("idle", c.idle)
        }
        object("pids", r.pids) { w, p in w.number("limit", p.limit) }
        object("blockIO", r.blockIO) { w, b in
            w.number("weight", b.weight)
            w.number("leafWeight", b.leafWeight)
            w.objects("weightDevice", b.weightDevice) { w, d in
                w.number("major", d.major)
                w.number("minor", d.minor)
                w.number("weight", d.weight)
                w.number("leafWeight", d.leafWeight)
            }
            for (name, list) in [("throttleReadBpsDevice", b.throttleReadBpsDevice),
                                 ("throttleWriteBpsDevice", b.throttleWriteBpsDevice),
                                 ("throttleReadIOPSDevice", b.throttleReadIOPSDevice),
                                 ("throttleWriteIOPSDevice", b.throttleWriteIOPSDevice)] {
                w.objects(name, list) { w, d in
                    w.number("major", d.major)
                    w.number("minor", d.minor)
                    w.number("rate", d.rate)
                }
            }
        }
        objects("hugepageLimits", r.hugepageLimits) { w, h in
            w.string("pageSize", h.pageSize)
            w.number("limit", h.limit)
        }
        object("network", r.network) { w, n in
            w.number("classID", n.classID)
            w.objects("priorities", n.priorities) { w, p in
                w.string("name", p.name)
                w.number("priority", p.priority)
            }
        }
        objectMap("rdma", r.rdma) { w, d in
            w.number("hcaHandles", d.hcaHandles)
            w.number("hcaObjects", d.hcaObjects)
        }
        stringMap("unified", r.unified)
    }
}
