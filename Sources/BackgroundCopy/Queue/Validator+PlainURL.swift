extension Validator {
    /// Whether `remote`, an `http` or `https` URL, is *plain* — and so certainly what `URLComponents`
    /// accepts with a host and no credentials — read from its bytes alone: `scheme://host[:port]`
    /// followed by nothing or by `/`, `?` or `#` and more, all of it printable ASCII that a URL may
    /// hold unescaped or as `%XX`; the host made of letters, digits, `-` and `.`; a port of one to
    /// five digits; no `@`, `[` or `]` anywhere; at most one `#`.
    ///
    /// `false` means only "not plain": the caller then asks `URLComponents`, which decides (and
    /// names the fault). Parsing each URL of a batch with `URLComponents` cost more than the rest
    /// of `addFiles` together; nearly every URL a host adds is plain.
    static func isPlainHTTP(_ remote: String) -> Bool {
        var utf8 = remote.utf8[...]
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")) else { return false }
        utf8 = utf8[utf8.index(after: colon)...]
        guard utf8.starts(with: "//".utf8) else { return false }
        utf8 = utf8.dropFirst(2)
        let authorityEnd = utf8.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? utf8.endIndex
        let authority = utf8[..<authorityEnd]
        let portColon = authority.firstIndex(of: UInt8(ascii: ":"))
        let host = authority[..<(portColon ?? authority.endIndex)]
        guard !host.isEmpty, host.allSatisfy(isHostByte) else { return false }
        if let portColon {
            let port = authority[authority.index(after: portColon)...]
            guard (1...5).contains(port.count), port.allSatisfy(isASCIIDigit) else { return false }
        }
        return isPlainRest(utf8[authorityEnd...])
    }

    /// Path, query and fragment: URL characters only, every `%` starting an escape, one `#` at most.
    private static func isPlainRest(_ rest: Substring.UTF8View) -> Bool {
        var hashes = 0
        var index = rest.startIndex
        while index < rest.endIndex {
            let byte = rest[index]
            if byte == UInt8(ascii: "%") {
                let first = rest.index(after: index)
                guard first < rest.endIndex, rest.index(after: first) < rest.endIndex,
                    hexValue(rest[first]) != nil, hexValue(rest[rest.index(after: first)]) != nil
                else { return false }
                index = rest.index(first, offsetBy: 2)
                continue
            }
            if byte == UInt8(ascii: "#") { hashes += 1 }
            guard hashes <= 1, isPlainURLByte(byte) else { return false }
            index = rest.index(after: index)
        }
        return true
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
