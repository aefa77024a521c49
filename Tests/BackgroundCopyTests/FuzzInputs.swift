import Foundation
@testable import BackgroundCopy

/// Random inputs for the fuzz test, from a seeded ``SplitMix64``: strings built of pieces that
/// have broken parsers before, URLs of every shape, paths inside and outside a prepared
/// directory, and sizes and digests at their edges.
struct FuzzInputs {
    var rng: SplitMix64
    /// A directory holding `dir/` (writable), `ro/` (mode 0555), `link` (a symlink to `dir`) and
    /// `plain` (a regular file).
    let root: String

    static let pieces: [String] = [
        "", "a", "file.bin", "é", "😀", "\u{202E}evil", "..", ".", "/", "//", "\\", "%00", "%2e%2e", "?", "#", "@", ":",
        " ", "\t", "\n", "\r\n", "\u{0}", "\u{7}", "\u{1B}[31m", "\u{7F}", "\u{85}", "\u{FEFF}", "\u{FFFD}",
        "http://", "https://", "file://", "ftp://", "javascript:", "user:pw@", "localhost", "127.0.0.1", "[::1]",
        "x.bgcopy-part", "~", "*", "'", "\"", ";", "--", "DROP TABLE groups",
    ]

    init(seed: UInt64, root: String) {
        rng = SplitMix64(seed: seed)
        self.root = root
    }

    mutating func pick<T>(_ values: [T]) -> T { values[rng.below(values.count)] }

    /// Zero to six pieces, or a long run of one character at a boundary that matters.
    mutating func text() -> String {
        if rng.percent(10) {
            let length = pick([255, 256, 257, 1024, 1025, 2200, 2201, 4095, 4096, 8193])
            return String(repeating: pick(["n", "é", "/", "a/"]), count: length)
        }
        return (0..<rng.below(7)).map { _ in pick(Self.pieces) }.joined()
    }

    mutating func remote() -> String {
        switch rng.below(5) {
        case 0: return text()
        case 1: return "/" + text()
        default:
            let scheme = pick(["http", "https", "file", "ftp", "HTTP", "gopher", "", "1http", "test"])
            let host = pick(["example.test", "", "127.0.0.1:8080", "[::1]", "user:pw@example.test", "example.test:99999", text()])
            var url = "\(scheme)://\(host)/\(text())"
            if rng.percent(30) { url += "?" + text() }
            if rng.percent(10) { url += "#" + text() }
            return url
        }
    }

    mutating func local() -> String {
        guard rng.percent(70) else { return text() }
        let directory = pick(["dir", "ro", "link", "plain", "missing", "dir/deeper", ""])
        let name = rng.percent(60) ? "f\(rng.below(40))" : text()
        return "\(root)/\(directory)/\(name)"
    }

    mutating func size() -> UInt64? {
        guard rng.percent(40) else { return nil }
        return pick([0, 1, UInt64(Int64.max), UInt64(Int64.max) + 1, .max, rng.next()])
    }

    mutating func sha256() -> String? {
        guard rng.percent(25) else { return nil }
        let digits = (0..<pick([0, 63, 64, 64, 64, 65, 128])).map { _ in pick(Array("0123456789abcdefABCDEFg ")) }
        return String(digits)
    }

    mutating func spec() -> FileSpec {
        FileSpec(remote: remote(), local: local(), sizeHint: size(), sha256: sha256())
    }

    mutating func duration() -> Duration {
        pick([
            .zero, .milliseconds(-1), .seconds(5), .seconds(600), .seconds(7 * 24 * 3600), .seconds(7 * 24 * 3600 + 1),
            .seconds(365 * 24 * 3600 + 1), .milliseconds(Int64(rng.below(1 << 30))),
        ])
    }

    mutating func properties() -> GroupProperties {
        var properties = GroupProperties(displayName: rng.percent(60) ? "group \(rng.below(100))" : text())
        if rng.percent(30) { properties.description = text() }
        if rng.percent(30) { properties.priority = pick(Priority.allCases) }
        if rng.percent(20) { properties.notifyFlags = NotifyFlags(rawValue: UInt32(truncatingIfNeeded: rng.next()) & pick([0x3F, 0xFF, .max])) }
        if rng.percent(20) { properties.retryDelay = duration() }
        if rng.percent(20) { properties.noProgressTimeout = duration() }
        if rng.percent(15) {
            properties.httpHeaders = (0..<pick([1, 2, 65])).map { _ in
                HTTPHeader(name: pick(["X-Key", "Authorization", "Cookie", text()]), value: text())
            }
        }
        return properties
    }
}
