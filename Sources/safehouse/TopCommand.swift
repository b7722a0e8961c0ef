import Agent
import Flags
import Linux
import Observe
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// `safehouse top [--once]`: every sandbox under the root, refreshed each second
/// (Sources/Observe reads the figures; TopTable lays them out; TopTerminal and
/// TopController run the screen and the keys). Stopping goes the emergency stop's
/// way (`agent stop-all`): the warden told, the cgroup killed, a `stop` record.
struct Top {
    let global: GlobalSettings
    let once: Bool

    init(_ a: ParsedArguments) throws {
        global = try GlobalSettings(a)
        once = a.isSet("--once")
    }

    func run() throws {
        let root = global.root
        // The engine form names only a policy: its limits and log are the policy's,
        // which the Agent layer reads (the policy directory of the root's safehouse.conf).
        let observer = SandboxObserver(root: root) { id, annotations in
            guard let base = SandboxFacts.fromAnnotations(annotations, id: id) else { return nil }
            guard let config = try? SandboxConfig(annotations: annotations, library: try PolicyLibrary.configured(root: root)) else {
                return base
            }
            return SandboxFacts(policy: config.policyName, timeoutSeconds: config.timeoutSeconds,
                                auditLog: config.auditLog ?? base.auditLog ?? AuditSink.defaultLog(id))
        }
        if once {
            printOnce(observer)
            return
        }
        let terminal = try TopTerminal()
        defer { terminal.restore() }
        var controller = TopController()
        var samples = observer.sample()
        var status = ""
        var nextSample = Self.now() + 1
        draw: while true {
            controller.update(ids: samples.map(\.id))
            render(samples, controller, status: status, on: terminal)
            let wait = Int32(max(0, min(1000, (nextSample - Self.now()) * 1000)))
            switch terminal.next(within: wait) {
            case .interrupted(let signal):
                terminal.restore()
                throw ExitCode(128 + signal)
            case .resized:
                continue draw
            case .tick:
                break
            case .keys(let keys):
                for key in keys {
                    switch controller.handle(key, ids: samples.map(\.id)) {
                    case .none: continue
                    case .quit: break draw
                    case .stop(let id): status = stop { $0.id == id }.contains(id) ? "stopped \(id)" : "\(id) was not running"
                    case .stopAll:
                        let ids = stop { _ in true }
                        status = "stopped \(ids.count) sandbox\(ids.count == 1 ? "" : "es")"
                    }
                    // A stop shows in the next sample, taken at once.
                    nextSample = 0
                }
            }
            if Self.now() >= nextSample {
                samples = observer.sample()
                nextSample = Self.now() + 1
            }
        }
    }

    /// The emergency stop for the sandboxes `matching` selects (agent stop-all's path).
    func stop(_ matching: (ContainerRecord) -> Bool) -> [String] {
        guard let runtime = try? global.runtime() else { return [] }
        return runtime.emergencyStop { $0.annotations?[SandboxAnnotation.policy] != nil && matching($0) }
    }

    func render(_ samples: [SandboxSample], _ controller: TopController, status: String, on terminal: TopTerminal) {
        let (columns, rows) = terminal.size
        let table = TopTable(samples, width: columns, now: Self.now())
        var lines: [(text: String, highlighted: Bool)] = []
        func add(_ text: String, _ highlighted: Bool = false) { lines.append((String(text.prefix(columns)), highlighted)) }
        // The count and what the width hides first: the root's path may be cut.
        let hidden = table.hidden.isEmpty ? "" : ", \(table.hidden.count) columns hidden (narrow)"
        add("\(samples.count) sandbox\(samples.count == 1 ? "" : "es")\(hidden) - safehouse top, root \(global.root)")
        add(table.lines[0])
        // Rows that fit, scrolled so that the selected one shows.
        let room = max(1, rows - 4 - min(2, table.notes.count))
        let at = controller.selected.flatMap { id in samples.firstIndex { $0.id == id } } ?? 0
        let first = max(0, min(at - room + 1, samples.count - room))
        for (i, line) in table.lines.dropFirst().enumerated() where i >= first && i < first + room {
            add(line, samples[i].id == controller.selected)
        }
        for note in table.notes.prefix(2) { add(note) }
        add(status)
        add(controller.prompt(count: samples.count))
        terminal.draw(lines)
    }

    /// One table as text: two samples a second apart (CPU is a rate), every column
    /// when stdout is not a terminal.
    func printOnce(_ observer: SandboxObserver) {
        _ = observer.sample()
        usleep(1_000_000)
        let samples = observer.sample()
        let width = isatty(1) == 1 ? Terminal.size(of: 1).map { Int($0.columns) } : nil
        let table = TopTable(samples, width: width, now: Self.now())
        for line in table.lines + table.notes { print(line) }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
