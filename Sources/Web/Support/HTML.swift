import Hummingbird

/// An HTML page as a response, with cookies to set.
struct HTML: ResponseGenerator {
    var body: ByteBuffer
    var status: HTTPResponse.Status = .ok
    var cookies: [Cookie] = []
    /// Pages behind a secret link or a login are never kept by caches.
    var privatePage = false

    init(html: String, status: HTTPResponse.Status = .ok, cookies: [Cookie] = [], privatePage: Bool = false) {
        self.init(body: ByteBuffer(string: html), status: status, cookies: cookies, privatePage: privatePage)
    }

    init(body: ByteBuffer, status: HTTPResponse.Status = .ok, cookies: [Cookie] = [], privatePage: Bool = false) {
        self.body = body
        self.status = status
        self.cookies = cookies
        self.privatePage = privatePage
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers[.cacheControl] = privatePage ? "no-store" : "no-cache"
        var response = Response(status: status, headers: headers, body: .init(byteBuffer: body))
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }
}

extension Response {
    /// `303 See Other`: after a form, the browser loads `location` with GET, so reloading does not post again.
    static func seeOther(_ location: String, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }
}
