/// Comma-separated values as RFC 4180 has them: fields with commas, quotes or line breaks are
/// quoted, a quote inside a quoted field is doubled, lines end with LF or CRLF. Every CSV vidclass
/// reads (datasets, corrections, label outputs) and writes (label outputs, timelines) goes
/// through here.
public enum CSV {
    /// The records of `text`, each a list of fields (a quoted field may span lines). Blank lines
    /// are skipped.
    public static func records(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = [], field = "", quoted = false, fieldWasQuoted = false
        var characters = text.makeIterator()
        func endRecord() {
            record.append(field)
            if !(record.count == 1 && record[0].isEmpty && !fieldWasQuoted) { records.append(record) }
            record = []
            field = ""
            fieldWasQuoted = false
        }
        while let c = characters.next() {
            if quoted {
                if c == "\"" {
                    var lookahead = characters
                    if lookahead.next() == "\"" {
                        field.append("\"")
                        characters = lookahead
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty:
                quoted = true
                fieldWasQuoted = true
            case ",":
                record.append(field)
                field = ""
                fieldWasQuoted = false
            case "\n", "\r\n", "\r":
                endRecord()
            default:
                field.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }

    /// One field, quoted when it holds a comma, a quote or a line break.
    public static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One line: the fields quoted as needed, joined by commas (no line break).
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",")
    }
}
