extension Validator {
    /// The scheme of `remote`, `"http"` or `"https"`, if `remote` is a *plain* URL of one of them —
    /// and so certainly what `URLComponents` accepts with a host and no credentials — read from its
    /// bytes alone: `scheme://host[:port]` followed by nothing or by `/`, `?` or `#` and more, all
    /// of it printable ASCII that a URL may hold unescaped or as `%XX`; the scheme in either case;
    /// the host made of letters, digits, `-` and `.`; a port of one to five digits; no `@`, `[` or
    /// `]` anywhere; at most one `#`. A plain URL holds no space and no control character.
    ///
    /// `nil` means only "not plain": the caller then asks `URLComponents`, which decides (and
    /// names the fault). Parsing each URL of a batch with `URLComponents` cost more than the rest
    /// of `addFiles` together; nearly every URL a host adds is plain.
    static func plainHTTPScheme(_ remote: String) -> String? {
        remote.utf8.withContiguousStorageIfAvailable(plainHTTPScheme) ?? nil
    }

    private static func plainHTTPScheme(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let count = bytes.count
        guard count >= 7, bytes[0] | 0x20 == UInt8(ascii: "h"), bytes[1] | 0x20 == UInt8(ascii: "t"),
            bytes[2] | 0x20 == UInt8(ascii: "t"), bytes[3] | 0x20 == UInt8(ascii: "p")
        else { return nil }
        let secure = bytes[4] | 0x20 == UInt8(ascii: "s")
        var index = secure ? 5 : 4
        guard index + 3 <= count, bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: "/"),
            bytes[index + 2] == UInt8(ascii: "/")
        else { return nil }
        index += 3
        let hostStart = index
        while index < count, isHostByte(bytes[index]) { index += 1 }
        guard index > hostStart else { return nil }
        if index < count, bytes[index] == UInt8(ascii: ":") {
            index += 1
            let portStart = index
            while index < count, isASCIIDigit(bytes[index]) { index += 1 }
            guard (1...5).contains(index - portStart) else { return nil }
        }
        guard index == count || bytes[index] == UInt8(ascii: "/") || bytes[index] == UInt8(ascii: "?") || bytes[index] == UInt8(ascii: "#")
        else { return nil }
        // Path, query and fragment: URL characters only, every `%` starting an escape, one `#` at most.
        var hashes = 0
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < count, hexValue(bytes[index + 1]) != nil, hexValue(bytes[index + 2]) != nil else { return nil }
                index += 3
                continue
            }
            if byte == UInt8(ascii: "#") { hashes += 1 }
            guard hashes <= 1, isPlainURLByte(byte) else { return nil }
            index += 1
        }
        return secure ? "https" : "http"
    }

    private static func isHostByte(_ byte: UInt8) -> Bool {
        isASCIIDigit(byte) || isASCIILetter(byte)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    /// RFC 3986's unreserved and reserved characters, less `@`, `[` and `]`.
    private static func isPlainURLByte(_ byte: UInt8) -> Bool {
        if isHostByte(byte) { return true }
        return switch byte {
        case UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"),
            UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            true
        default:
            false
        }
    }
}
