import Synchronization

/// The most bytes each file whose source restarted from zero has held during this engine's run.
///
/// A source that ignores `Range` sends the file from its first byte on every try, and may stop at
/// a different point each time (what arrives before a dropped connection varies). Bytes it sends
/// again are not progress: only bytes beyond the most the file ever held reset the file's retries
/// and its group's no-progress clock. Files whose source never restarted have no mark, so the
/// table holds only the few that did.
final class RestartMarks: Sendable {
    private let marks = Mutex<[Int64: UInt64]>([:])

    /// The file restarted from zero while holding `held` bytes.
    func restarted(_ fileRowID: Int64, holding held: UInt64) {
        raise(fileRowID, to: held, creating: true)
    }

    /// The file now holds `count` committed bytes; raises its mark, if it has one.
    func committed(_ fileRowID: Int64, _ count: UInt64) {
        raise(fileRowID, to: count, creating: false)
    }

    /// The most bytes the file has held, if its source ever restarted.
    func mark(_ fileRowID: Int64) -> UInt64? {
        marks.withLock { $0[fileRowID] }
    }

    private func raise(_ fileRowID: Int64, to count: UInt64, creating: Bool) {
        marks.withLock { marks in
            guard let mark = marks[fileRowID] else {
                if creating { marks[fileRowID] = count }
                return
            }
            marks[fileRowID] = max(mark, count)
        }
    }
}
