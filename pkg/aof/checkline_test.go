package aof

import (
	"encoding/json"
	"reflect"
	"strings"
	"unicode"
)

// checkLine renders a Check result for the data-driven files: JSON objects
// with the fields in order under snake_case names, the optional ones left out
// when zero, and no Err. (CheckResult has no JSON form of its own: that is
// for the programs that print it, such as rdbtool verify.)
func checkLine(v any) string {
	var b strings.Builder
	writeCheckJSON(&b, reflect.ValueOf(v))
	return b.String()
}

// checkOptional are the fields left out when zero.
var checkOptional = map[string]bool{"FirstTimestamp": true, "LastTimestamp": true, "Problem": true,
	"TimestampCut": true, "ServerTruncateOffset": true, "CommandsAfter": true}

func writeCheckJSON(b *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		writeCheckJSON(b, v.Elem())
	case reflect.Struct:
		b.WriteByte('{')
		n := 0
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			if f.Type.Kind() == reflect.Interface || checkOptional[f.Name] && fv.IsZero() {
				continue
			}
			if n++; n > 1 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + snakeCase(f.Name) + `":`)
			writeCheckJSON(b, fv)
		}
		b.WriteByte('}')
	default:
		j, _ := json.Marshal(v.Interface())
		b.Write(j)
	}
}

// snakeCase turns LastCommandEnd into last_command_end, OK into ok.
func snakeCase(name string) string {
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) && i > 0 && unicode.IsLower(rune(name[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
