import Egress
import NIOCore

/// Answers one DNS query for the sandbox, whatever carried it (UDP: EgressDNS; TCP
/// to port 53, captured: EgressTunnel): judges it (DNSGuard), looks an allowed name
/// up off the event loop, checks and remembers its addresses, and records the
/// decision, one record per query.
struct EgressDNSResponder {
    /// Seconds an answer may be cached. Short: the warden's view of a name is checked
    /// per connection anyway, and the address book keeps what it gave out.
    static let ttl: UInt32 = 60

    let shared: EgressShared

    /// Calls `reply` with the answer on `eventLoop` (not at all for what is not even
    /// a DNS header).
    func respond(to bytes: [UInt8], on eventLoop: EventLoop, reply: @escaping ([UInt8]) -> Void) {
        let started = NIODeadline.now()
        var record = EgressRecord()
        record.method = "DNS"
        record.port = 53
        let shared = self.shared
        func finish(_ answer: [UInt8]?, _ record: EgressRecord) {
            shared.audit.append(record, since: started)
            if let answer { reply(answer) }
        }
        let query: DNSMessage.Query
        switch DNSMessage.parseQuery(bytes) {
        case .invalid(let id, let reason, let oversized):
            record.reason = reason
            if oversized { shared.dnsSuspicious += 1 }
            return finish(id.map { DNSMessage.error(oversized ? .refused : .formatError, id: $0) }, record)
        case .query(let parsed): query = parsed
        }
        record.host = query.question.name
        switch DNSGuard.judge(query.question, allowlist: shared.allowlist, askable: shared.decider != nil) {
        case .refuse(let code, let reason, let suspicious):
            record.reason = reason
            if suspicious { shared.dnsSuspicious += 1 }
            finish(DNSMessage.error(code, to: query), record)
        case .resolve(let name, let rule):
            record.rule = rule.text
            lookUp(query, name: name, rule: rule, record: record, on: eventLoop, finish: finish)
        case .ask(let name):
            // Asked off the event loop, with the decider's cache and deadline; a yes
            // is looked up as a rule naming the name would be.
            guard let decider = shared.decider else { return finish(DNSMessage.error(.nameError, to: query), record) }
            decider.decide(host: name, port: 0, on: eventLoop).assumeIsolated().whenSuccess { verdict in
                var record = record
                switch record.decided(by: verdict, .name(name), port: 0) {
                case .failure(let denial):
                    record.reason = denial.description
                    finish(DNSMessage.error(.nameError, to: query), record)
                case .success(let rule):
                    self.lookUp(query, name: name, rule: rule, record: record, on: eventLoop, finish: finish)
                }
            }
        }
    }

    /// Looks an allowed name up, then answers with its checked addresses, or why not.
    func lookUp(_ query: DNSMessage.Query, name: String, rule: AllowRule, record: EgressRecord, on eventLoop: EventLoop,
                finish: @escaping ([UInt8]?, EgressRecord) -> Void) {
        shared.resolve(name, on: eventLoop).assumeIsolated().whenComplete { result in
            var record = record
            let found = (try? result.get()) ?? []
            switch self.shared.allowlist.check(addresses: found, for: .name(name), rule: rule) {
            case .failure(let denial):
                record.reason = denial.description
                finish(DNSMessage.error(found.isEmpty ? .nameError : .refused, to: query), record)
            case .success(let addresses):
                self.shared.book.remember(addresses, for: name)
                record.decision = "allowed"
                // The addresses of the asked family: what the sandbox was told.
                let told = addresses.filter { (query.question.type == DNSMessage.RecordType.aaaa) == ($0.family == .v6) }
                if !told.isEmpty, [DNSMessage.RecordType.a, DNSMessage.RecordType.aaaa].contains(query.question.type) {
                    record.address = told.map(\.description).joined(separator: ",")
                }
                finish(DNSMessage.answer(query, addresses: addresses, ttl: Self.ttl), record)
            }
        }
    }
}
