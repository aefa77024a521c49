import ArgumentParser
import BackgroundCopy
import Foundation

/// A duration on the command line: a number and a unit, optionally several (`45s`, `30m`, `12h`,
/// `7d`, `1h30m`, `500ms`); a bare number is seconds.
struct DurationArgument: ExpressibleByArgument, Sendable {
    let duration: Duration

    init?(argument: String) {
        guard let duration = DurationArgument.parse(argument) else { return nil }
        self.duration = duration
    }

    static func parse(_ text: String) -> Duration? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let seconds = Int64(text), seconds >= 0 { return .seconds(seconds) }
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000)]
        var milliseconds: Int64 = 0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix(while: \.isNumber)
            guard !digits.isEmpty, let number = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix(while: \.isLetter)
            guard let unit = units.first(where: { $0.0 == letters }) else { return nil }
            rest = rest.dropFirst(letters.count)
            let (product, overflow) = number.multipliedReportingOverflow(by: unit.1)
            guard !overflow else { return nil }
            milliseconds += product
        }
        return .milliseconds(milliseconds)
    }
}

/// A byte count or rate: a number with an optional binary suffix (`512K`, `10M`, `1G`, `1.5M`).
struct ByteCountArgument: ExpressibleByArgument, Sendable {
    let bytes: UInt64

    init?(argument: String) {
        var text = argument.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["/S", "IB", "B"] where text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        var multiplier: Double = 1
        if let last = text.last, let index = ["K", "M", "G", "T"].firstIndex(of: String(last)) {
            multiplier = pow(1024, Double(index + 1))
            text.removeLast()
        }
        guard let number = Double(text), number > 0, number.isFinite, number * multiplier < 1e18 else { return nil }
        bytes = UInt64((number * multiplier).rounded())
    }
}

extension Priority: ExpressibleByArgument {
    /// `foreground`, `high`, `normal` or `low`.
    public init?(argument: String) {
        guard let match = Priority.allCases.first(where: { $0.description == argument.lowercased() }) else { return nil }
        self = match
    }

    public static var allValueStrings: [String] { Priority.allCases.map(\.description) }
}

/// Notify flags on the command line: names separated by commas (`groupDone,error`, `none`,
/// `default`, `all`) or a number (`0x0c`, `12`).
struct NotifyArgument: ExpressibleByArgument, Sendable {
    static let names: [(String, NotifyFlags)] = [
        ("fileDone", .fileDone), ("jobDone", .jobDone), ("groupDone", .groupDone), ("error", .error),
        ("progress", .progress), ("modification", .modification), ("disable", .disable),
    ]
    let flags: NotifyFlags

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        if text.lowercased().hasPrefix("0x"), let raw = UInt32(text.dropFirst(2), radix: 16) {
            flags = NotifyFlags(rawValue: raw)
            return
        }
        if let raw = UInt32(text) {
            flags = NotifyFlags(rawValue: raw)
            return
        }
        var flags: NotifyFlags = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            switch part {
            case "none": continue
            case "default": flags.formUnion(.default)
            case "all": flags.formUnion(.all.subtracting(.disable))
            default:
                guard let match = NotifyArgument.names.first(where: { $0.0.lowercased() == part }) else { return nil }
                flags.formUnion(match.1)
            }
        }
        self.flags = flags
    }

    /// The names of the flags set, in the order of ``names``.
    static func describe(_ flags: NotifyFlags) -> [String] {
        names.filter { flags.contains($0.1) }.map(\.0)
    }
}

/// A custom header on the command line: `Name: value` (or `Name:value`).
struct HeaderArgument: ExpressibleByArgument, Sendable {
    let header: HTTPHeader

    init?(argument: String) {
        guard let colon = argument.firstIndex(of: ":") else { return nil }
        let name = argument[..<colon].trimmingCharacters(in: .whitespaces)
        let value = argument[argument.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        header = HTTPHeader(name: name, value: value)
    }
}

extension GroupID: ExpressibleByArgument {
    /// The canonical text form of a UUID.
    public init?(argument: String) { self.init(argument) }
}
