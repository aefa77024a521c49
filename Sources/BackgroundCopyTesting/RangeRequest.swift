/// A parsed `Range` request header (a single `bytes` range; anything else is ignored, as RFC 9110
/// allows).
enum RangeRequest: Equatable {
    /// No range, or one the server ignores (malformed, several ranges, another unit).
    case absent
    /// The offsets to send, within the content.
    case satisfiable(Range<Int>)
    /// A range entirely past the end: answered 416.
    case unsatisfiable

    /// Reads `value` (e.g. `bytes=100-`, `bytes=0-99`, `bytes=-50`) against content of `size` bytes.
    init(_ value: String?, size: Int) {
        guard let value else { self = .absent; return }
        let trimmed = value.trimmingWhitespace()
        guard trimmed.lowercased().hasPrefix("bytes="), !trimmed.contains(",") else { self = .absent; return }
        let spec = trimmed.dropFirst(6).trimmingWhitespace()
        guard let dash = spec.firstIndex(of: "-") else { self = .absent; return }
        let first = spec[..<dash].trimmingWhitespace()
        let last = spec[spec.index(after: dash)...].trimmingWhitespace()
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard let suffix = Int(last), suffix >= 0 else { self = .absent; return }
            self = suffix == 0 || size == 0 ? .unsatisfiable : .satisfiable(max(0, size - suffix)..<size)
            return
        }
        guard let start = Int(first), start >= 0 else { self = .absent; return }
        var end = size - 1
        if !last.isEmpty {
            guard let given = Int(last), given >= start else { self = .absent; return }
            end = min(given, size - 1)
        }
        self = start >= size ? .unsatisfiable : .satisfiable(start..<end + 1)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
