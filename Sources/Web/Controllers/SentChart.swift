import Appeals
import Foundation

/// Letters sent per hour as an SVG bar chart, drawn on the server: no script, and presentation attributes
/// only (the content security policy allows no inline style).
struct SentChart {
    let series: [(hour: Date, count: Int)]

    var svg: String {
        let width = 720, height = 200, left = 40, bottom = 24, top = 10
        let peak = max(1, series.map(\.count).max() ?? 1)
        let slot = Double(width - left) / Double(max(1, series.count))
        let plot = Double(height - bottom - top)
        let hourFormat = DateFormatter.utc("HH")
        var parts = ["""
            <svg class="chart" viewBox="0 0 \(width) \(height)" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">
            <title id="chart-title">Letters sent per hour: \(series.map(\.count).reduce(0, +)) in the last \(series.count) hours, at most \(peak) in one hour</title>
            <line x1="\(left)" y1="\(height - bottom)" x2="\(width)" y2="\(height - bottom)" stroke="#767676"/>
            <text x="\(left - 6)" y="\(top + 10)" text-anchor="end" font-size="11" fill="#555">\(peak)</text>
            <text x="\(left - 6)" y="\(height - bottom)" text-anchor="end" font-size="11" fill="#555">0</text>
            """]
        for (index, point) in series.enumerated() {
            let barHeight = plot * Double(point.count) / Double(peak)
            let x = Double(left) + Double(index) * slot
            let hour = hourFormat.string(from: point.hour)
            parts.append("<rect x=\"\(Self.number(x + 1))\" y=\"\(Self.number(Double(height - bottom) - barHeight))\" width=\"\(Self.number(max(1, slot - 2)))\" "
                         + "height=\"\(Self.number(barHeight))\" fill=\"#0b5cad\"><title>\(hour):00 UTC: \(point.count)</title></rect>")
            if index % 3 == 0 {
                parts.append("<text x=\"\(Self.number(x + 1))\" y=\"\(height - 8)\" font-size=\"11\" fill=\"#555\">\(hour)</text>")
            }
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    private static func number(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
