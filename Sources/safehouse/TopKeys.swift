/// A key `safehouse top` acts on, decoded from what a terminal in raw mode sends:
/// plain bytes for letters, ESC [ A / ESC [ B (or ESC O A / B, application mode) for
/// the arrows, CR or LF for Enter, a lone ESC for Escape.
enum TopKey: Equatable {
    case up, down, enter, escape
    case character(UInt8)

    /// The keys in `bytes`; a sequence cut at the end of the read is returned as
    /// `rest`, to be completed by the next one. Sequences this view has no use for
    /// (other function keys) are skipped whole.
    static func decode(_ bytes: [UInt8]) -> (keys: [TopKey], rest: [UInt8]) {
        var keys: [TopKey] = []
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x1B {
                // ESC alone at the end of a read, or before anything but [ or O: Escape (a
                // terminal sends a sequence in one write, so its first byte does not
                // arrive alone).
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "[") || bytes[i + 1] == UInt8(ascii: "O") else {
                    keys.append(.escape)
                    i += 1
                    continue
                }
                // CSI: parameters and intermediates (0x20-0x3F), then a final byte (0x40-0x7E).
                var j = i + 2
                while j < bytes.count, bytes[j] >= 0x20, bytes[j] <= 0x3F { j += 1 }
                guard j < bytes.count else { return (keys, Array(bytes[i...])) }
                switch bytes[j] {
                case UInt8(ascii: "A"): keys.append(.up)
                case UInt8(ascii: "B"): keys.append(.down)
                default: break
                }
                i = j + 1
                continue
            }
            keys.append(b == 0x0D || b == 0x0A ? .enter : .character(b))
            i += 1
        }
        return (keys, [])
    }
}

/// What the keys do, apart from the terminal: the selection, the stop prompts and
/// the actions they lead to. `ids` is the table's order.
struct TopController: Equatable {
    enum Mode: Equatable {
        case browsing
        /// `k` was pressed: the selected sandbox is the one a confirmation stops.
        case choosingStop
        /// `K` was pressed: a `y` stops every sandbox.
        case confirmingStopAll
    }

    enum Action: Equatable {
        case none, quit
        case stop(String)
        case stopAll
    }

    var mode = Mode.browsing
    var selected: String?

    /// Keeps the selection on the same sandbox when the list changes; when it is gone,
    /// on the first one.
    mutating func update(ids: [String]) {
        if let selected, ids.contains(selected) { return }
        selected = ids.first
        if ids.isEmpty, mode == .choosingStop { mode = .browsing }
    }

    mutating func handle(_ key: TopKey, ids: [String]) -> Action {
        update(ids: ids)
        if mode == .confirmingStopAll {
            mode = .browsing
            return key == .character(UInt8(ascii: "y")) ? .stopAll : .none
        }
        // Browsing and choosing the sandbox to stop share the moves and q; k moves up
        // while choosing.
        let choosing = mode == .choosingStop
        switch key {
        case .up: move(-1, ids)
        case .down, .character(UInt8(ascii: "j")): move(1, ids)
        case .character(UInt8(ascii: "q")): return .quit
        case .character(UInt8(ascii: "k")):
            if choosing { move(-1, ids) } else if selected != nil { mode = .choosingStop }
        case .character(UInt8(ascii: "K")): if !choosing, !ids.isEmpty { mode = .confirmingStopAll }
        case .enter, .character(UInt8(ascii: "y")):
            guard choosing else { break }
            mode = .browsing
            if let selected { return .stop(selected) }
        case .escape, .character(UInt8(ascii: "n")): mode = .browsing
        default: break
        }
        return .none
    }

    private mutating func move(_ step: Int, _ ids: [String]) {
        guard !ids.isEmpty else { return }
        let at = selected.flatMap { ids.firstIndex(of: $0) } ?? 0
        selected = ids[min(ids.count - 1, max(0, at + step))]
    }

    /// The line under the table: what the keys do now.
    func prompt(count: Int) -> String {
        switch mode {
        case .browsing: return "q quit  k stop one  K stop all  up/down or j select"
        case .choosingStop: return "stop \(selected ?? "?")? Enter or y: stop it, j/k or arrows: choose another, Esc or n: cancel"
        case .confirmingStopAll: return "stop all \(count) sandbox\(count == 1 ? "" : "es") now? y: stop all, any other key: cancel"
        }
    }
}
