import CLinux
import Linux
import SandboxInterface
#if canImport(Glibc)
import Glibc
#endif

/// The warden's own records in the sandbox's audit log: every egress decision as the
/// proxy makes it, and the init's exit when the warden is the one that can see it
/// (ExitStatusWatch). Same log, same chain, same key as the runtime's records.
///
/// The append is the one audit client's (AuditClient, through AuditChain: plain-Swift
/// hashes, no Foundation), in this process: nothing is started per batch.
///
/// Appends happen on one background thread (started at the first record), in the
/// order the records were handed in; whatever is waiting when a batch starts goes in
/// that one append (one write(2) under the log's flock, so
/// the CLI, hooks and the warden never interleave). `record` never blocks: the event
/// loop only takes a mutex to queue a line.
final class AuditAppender: @unchecked Sendable {
    /// Egress decisions written per sandbox. Past it one record says that later
    /// decisions are dropped, and the warden's report counts them: an agent making a
    /// million refused connections must not fill the log's disk (a decision is 340 to
    /// 420 bytes on the record, with a MAC, so at most about 4 MB a sandbox).
    /// `egress.jsonl` in the state directory keeps every decision for the summary.
    static let decisionLimit = 10_000
    /// Records per append (each ~300 bytes of details).
    static let batchLimit = 200
    /// How long a batch may gather before its run (50 ms).
    static let gatherMicroseconds: UInt32 = 50_000

    let destination: AuditDestination
    let decisionLimit: Int

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var pending: [(kind: String, details: String)] = []
    private var thread: pthread_t?
    private var closing = false
    private var decisions = 0
    private var droppedCount = 0
    private var failure: String?

    init(_ destination: AuditDestination, decisionLimit: Int = AuditAppender.decisionLimit) {
        self.destination = destination
        self.decisionLimit = decisionLimit
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        wake.deallocate()
    }

    /// One egress decision (its egress.jsonl object): an `egress` record, unless the
    /// limit is reached. Called on the event loop.
    func recordDecision(_ object: String) {
        locked {
            guard !closing else { return }
            if decisions >= decisionLimit {
                if droppedCount == 0 {
                    enqueue("egress", "{\"dropped\":\"every later egress decision of this sandbox (the warden's report counts them: egressDropped)\",\"limit\":\(decisionLimit)}")
                }
                droppedCount += 1
                return
            }
            decisions += 1
            enqueue("egress", "{\"decision\":\(object)}")
        }
    }

    /// Any other record (details: a canonical JSON object, keys sorted).
    func record(kind: String, details: String) {
        locked {
            guard !closing else { return }
            enqueue(kind, details)
        }
    }

    /// Decisions past the limit, not on the record.
    var dropped: Int { locked { droppedCount } }

    /// Writes what is queued, stops the thread and returns the first failure (nil when
    /// every record reached the log). Later records are ignored.
    @discardableResult
    func finish() -> String? {
        let running: pthread_t? = locked {
            closing = true
            pthread_cond_signal(wake)
            return thread
        }
        if let running { pthread_join(running, nil) }
        // Never started (no thread could be made): write here.
        let rest: [(kind: String, details: String)] = locked { defer { pending.removeAll() }; return pending }
        if !rest.isEmpty { write(rest) }
        return locked { failure }
    }

    // MARK: the background thread

    /// Under the mutex.
    private func enqueue(_ kind: String, _ details: String) {
        pending.append((kind, details))
        if thread == nil {
            var t = pthread_t()
            let me = Unmanaged.passRetained(self).toOpaque()
            if pthread_create(&t, nil, { raw in
                let appender = Unmanaged<AuditAppender>.fromOpaque(raw!).takeRetainedValue()
                appender.drain()
                return nil
            }, me) == 0 {
                thread = t
            } else {
                Unmanaged<AuditAppender>.fromOpaque(me).release()
            }
        }
        pthread_cond_signal(wake)
    }

    private func drain() {
        while true {
            let waiting: Bool = locked {
                while pending.isEmpty && !closing { pthread_cond_wait(wake, mutex) }
                return !pending.isEmpty && !closing && pending.count < Self.batchLimit
            }
            // Let a batch gather: a steady stream of decisions (a flood is one) would
            // otherwise make an append (a log read, a sync) of a few records each. A record reaches the log
            // at most this much later.
            if waiting { usleep(Self.gatherMicroseconds) }
            let batch: [(kind: String, details: String)]? = locked {
                if pending.isEmpty { return nil }
                let n = min(pending.count, Self.batchLimit)
                defer { pending.removeFirst(n) }
                return Array(pending.prefix(n))
            }
            guard let batch else { return }
            write(batch)
        }
    }

    /// One append of a batch (it takes the log's lock itself).
    private func write(_ batch: [(kind: String, details: String)]) {
        let problem = AuditClient.append(batch.map { AuditClient.Record(kind: $0.kind, details: $0.details) }, to: destination)?.description
        locked {
            if let problem, failure == nil { failure = problem }
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
