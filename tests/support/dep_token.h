// Test-side tooling for DEP server tokens: a `.p7m` made the way Apple Business Manager makes it
// (CMS enveloped data to the uploaded certificate, S/MIME text), around the usual MIME text part
// with the OAuth1 JSON between MESSAGE markers.
#pragma once

#include <string>

namespace mdmgw::testing {

// The MIME text part Apple encrypts; |expiry| is RFC 3339.
std::string DepTokenPlaintext(const std::string& consumer_key,
                              const std::string& expiry = "2099-09-16T17:21:34Z", bool crlf = false,
                              bool markers_on_json_line = true);

// S/MIME enveloped data to |cert_pem| around |plaintext|, CRLF or LF line ends.
std::string MakeDepP7m(const std::string& cert_pem, const std::string& plaintext,
                       bool crlf = false);

}  // namespace mdmgw::testing
