extension String {
    /// This URL with its query and fragment cut to `?…`, for error messages and logs: query strings
    /// often carry signatures or tokens, and logs never show them (DESIGN.md, Security). The
    /// error's ``QueueError/value`` keeps the URL whole.
    var withoutQuery: String {
        guard let mark = firstIndex(where: { $0 == "?" || $0 == "#" }) else { return self }
        return self[..<mark] + "?…"
    }
}
