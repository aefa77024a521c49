import Foundation

/// Checks every input before a transaction starts. A rejected input throws `invalidArgument`
/// (or `accessDenied` for paths the process may not write) naming the value; nothing is written.
struct Validator: Sendable {
    let configuration: QueueManager.Configuration
    let fileSystem: any FileSystem

    static let maxDisplayName = 256
    static let maxDescription = 1024
    static let maxRemoteLength = 2200
    static let maxPathBytes = 4095
    static let maxNameBytes = 255
    /// Room left in a name for the temp file's `.` prefix and `.<file id>.bgcopy-part` suffix.
    static let maxFinalNameBytes = 220
    static let maxHeaders = 64
    static let maxHeaderValue = 8192
    /// The suffix of temp files (`.<name>.<file id>.bgcopy-part`); no local path may end in it.
    static let tempSuffix = ".bgcopy-part"
    static let maxRetryDelay = Duration.seconds(7 * 24 * 3600)
    static let maxNoProgressTimeout = Duration.seconds(365 * 24 * 3600)
    /// Request headers the library sets itself, or that would put credentials in the database.
    static let reservedHeaders: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "host", "range", "if-range",
        "content-length", "transfer-encoding", "connection",
    ]

    // MARK: Group properties

    func validate(_ properties: GroupProperties) throws(QueueError) {
        let name = properties.displayName
        guard !name.isEmpty else { throw .invalidArgument("display name is empty", value: name) }
        guard name.unicodeScalars.count <= Self.maxDisplayName else {
            throw .invalidArgument("display name is \(name.unicodeScalars.count) characters; at most \(Self.maxDisplayName) allowed", value: name)
        }
        if let scalar = Self.firstControl(in: name, allowing: []) {
            throw .invalidArgument("display name contains control character \(Self.hex(scalar))", value: name)
        }
        let description = properties.description
        guard description.unicodeScalars.count <= Self.maxDescription else {
            throw .invalidArgument("description is \(description.unicodeScalars.count) characters; at most \(Self.maxDescription) allowed", value: description)
        }
        if let scalar = Self.firstControl(in: description, allowing: ["\t", "\n"]) {
            throw .invalidArgument("description contains control character \(Self.hex(scalar))", value: description)
        }
        let unknown = properties.notifyFlags.rawValue & ~NotifyFlags.all.rawValue
        guard unknown == 0 else {
            throw .invalidArgument(
                "notify flags contain unknown bits 0x\(String(unknown, radix: 16))", value: "0x\(String(properties.notifyFlags.rawValue, radix: 16))")
        }
        let retry = properties.retryDelay
        guard retry >= configuration.minimumRetryDelay, retry <= Self.maxRetryDelay else {
            throw .invalidArgument("retry delay \(retry) is outside \(configuration.minimumRetryDelay)…\(Self.maxRetryDelay)", value: "\(retry)")
        }
        let timeout = properties.noProgressTimeout
        guard timeout >= .zero, timeout <= Self.maxNoProgressTimeout else {
            throw .invalidArgument("no-progress timeout \(timeout) is outside 0…\(Self.maxNoProgressTimeout)", value: "\(timeout)")
        }
        try validate(properties.httpHeaders)
        if let command = properties.notifyCommand { try validate(command) }
    }

    private func validate(_ headers: [HTTPHeader]) throws(QueueError) {
        guard headers.count <= Self.maxHeaders else {
            throw .invalidArgument("\(headers.count) custom headers; at most \(Self.maxHeaders) allowed", value: "\(headers.count)")
        }
        for header in headers {
            let name = header.name
            guard !name.isEmpty, name.utf8.count <= 256, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw .invalidArgument("header name '\(name)' is not an HTTP token", value: name)
            }
            guard !Self.reservedHeaders.contains(name.lowercased()) else {
                throw .invalidArgument("header \(name) is managed by the library or carries credentials (use the credential callback)", value: name)
            }
            let value = header.value
            guard value.utf8.count <= Self.maxHeaderValue else {
                throw .invalidArgument("value of header \(name) is \(value.utf8.count) bytes; at most \(Self.maxHeaderValue) allowed", value: value)
            }
            if let scalar = Self.firstControl(in: value, allowing: ["\t"]) {
                throw .invalidArgument("value of header \(name) contains control character \(Self.hex(scalar))", value: value)
            }
        }
    }

    // MARK: Helpers

    static func digest(_ hex: String) throws(QueueError) -> [UInt8] {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else {
            throw .invalidArgument("SHA-256 must be 64 hex digits, got \(digits.count) characters", value: hex)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for pair in stride(from: 0, to: 64, by: 2) {
            guard let high = hexValue(digits[pair]), let low = hexValue(digits[pair + 1]) else {
                throw .invalidArgument("SHA-256 \(hex) contains a character that is not a hex digit", value: hex)
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// The value of one hexadecimal digit, either case; nil for any other byte.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func firstControl(in text: String, allowing allowed: Set<Unicode.Scalar>) -> Unicode.Scalar? {
        guard mayHoldControl(text) else { return nil }
        return text.unicodeScalars.first { $0.properties.generalCategory == .control && !allowed.contains($0) }
    }

    /// Whether `text` may hold a control character (category Cc: U+0000–U+001F, U+007F–U+009F), by
    /// its UTF-8 bytes alone: one below 0x20, 0x7F, or 0xC2, the lead byte of U+0080–U+00BF. False
    /// means it holds none, so most text skips the Unicode property look-up per character.
    static func mayHoldControl(_ text: String) -> Bool {
        func scan(_ bytes: some Sequence<UInt8>) -> Bool {
            bytes.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }
        }
        return text.utf8.withContiguousStorageIfAvailable(scan) ?? scan(text.utf8)
    }

    static func hex(_ scalar: Unicode.Scalar) -> String {
        "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
    }

    /// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, isASCIILetter(first) else { return false }
        return text.utf8.allSatisfy { byte in
            isASCIILetter(byte) || isASCIIDigit(byte)
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
    }

    static func isASCIILetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    static func isASCIIDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        isASCIILetter(byte) || isASCIIDigit(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hex, two digits a byte.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
