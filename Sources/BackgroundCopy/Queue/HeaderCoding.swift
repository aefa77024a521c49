/// Stores a group's custom headers in one TEXT column as `Name: value` lines.
/// Validation forbids CR and LF in names and values, so the encoding is unambiguous.
enum HeaderCoding {
    static func encode(_ headers: [HTTPHeader]) -> String {
        headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
    }

    static func decode(_ text: String) -> [HTTPHeader] {
        text.split(separator: "\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let value = line[line.index(after: colon)...]
            return HTTPHeader(name: String(line[..<colon]), value: String(value.hasPrefix(" ") ? value.dropFirst() : value))
        }
    }
}
