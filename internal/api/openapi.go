package api

import _ "embed"

// openapiJSON is the OpenAPI 3.1 document of the API, served at
// /api/v1/openapi.json. A test checks that it describes every route.
//
//go:embed openapi.json
var openapiJSON []byte
