package rdb

import "fmt"

// Type is the value-type byte that precedes a key in an RDB file. It names the
// on-disk encoding, not only the logical type: a hash may be stored as Hash,
// HashZiplist, HashListpack, HashMetadata, ...
//
// Types 22 and 23 mean different things to Redis and to Valkey 9 (RDB 80). The
// Reader reports Valkey's HASH_2 as TypeValkeyHash2 so that a Type alone always
// identifies its layout.
type Type uint16

// Wire format: never renumber. The numbers are the C constants of redis/redis
// src/rdb.h; TypeValkeyHash2 is the only synthetic value (see above).
const (
	TypeString              Type = 0  // RDB_TYPE_STRING
	TypeList                Type = 1  // RDB_TYPE_LIST
	TypeSet                 Type = 2  // RDB_TYPE_SET
	TypeZSet                Type = 3  // RDB_TYPE_ZSET
	TypeHash                Type = 4  // RDB_TYPE_HASH
	TypeZSet2               Type = 5  // RDB_TYPE_ZSET_2
	TypeModulePreGA         Type = 6  // RDB_TYPE_MODULE_PRE_GA
	TypeModule2             Type = 7  // RDB_TYPE_MODULE_2
	TypeHashZipmap          Type = 9  // RDB_TYPE_HASH_ZIPMAP
	TypeListZiplist         Type = 10 // RDB_TYPE_LIST_ZIPLIST
	TypeSetIntset           Type = 11 // RDB_TYPE_SET_INTSET
	TypeZSetZiplist         Type = 12 // RDB_TYPE_ZSET_ZIPLIST
	TypeHashZiplist         Type = 13 // RDB_TYPE_HASH_ZIPLIST
	TypeListQuicklist       Type = 14 // RDB_TYPE_LIST_QUICKLIST
	TypeStreamListpacks     Type = 15 // RDB_TYPE_STREAM_LISTPACKS
	TypeHashListpack        Type = 16 // RDB_TYPE_HASH_LISTPACK
	TypeZSetListpack        Type = 17 // RDB_TYPE_ZSET_LISTPACK
	TypeListQuicklist2      Type = 18 // RDB_TYPE_LIST_QUICKLIST_2
	TypeStreamListpacks2    Type = 19 // RDB_TYPE_STREAM_LISTPACKS_2
	TypeSetListpack         Type = 20 // RDB_TYPE_SET_LISTPACK
	TypeStreamListpacks3    Type = 21 // RDB_TYPE_STREAM_LISTPACKS_3
	TypeHashMetadataPreGA   Type = 22 // RDB_TYPE_HASH_METADATA_PRE_GA (Redis 7.4 RCs)
	TypeHashListpackExPreGA Type = 23 // RDB_TYPE_HASH_LISTPACK_EX_PRE_GA (Redis 7.4 RCs)
	TypeHashMetadata        Type = 24 // RDB_TYPE_HASH_METADATA
	TypeHashListpackEx      Type = 25 // RDB_TYPE_HASH_LISTPACK_EX
	TypeStreamListpacks4    Type = 26 // RDB_TYPE_STREAM_LISTPACKS_4 (Redis 8.6, RDB 13)

	// TypeValkeyHash2 is Valkey's RDB_TYPE_HASH_2, byte 22 under the VALKEY magic.
	TypeValkeyHash2 Type = 0x100 | 22
)

// Opcodes (wire format: never renumber).
const (
	opSlotImportOrKeyMeta = 0xF3 // RDB_OPCODE_KEY_META (Redis 13) / RDB_OPCODE_SLOT_IMPORT (Valkey 80)
	opSlotInfo            = 0xF4 // RDB_OPCODE_SLOT_INFO
	opFunction2           = 0xF5 // RDB_OPCODE_FUNCTION2
	opFunctionPreGA       = 0xF6 // RDB_OPCODE_FUNCTION_PRE_GA
	opModuleAux           = 0xF7 // RDB_OPCODE_MODULE_AUX
	opIdle                = 0xF8 // RDB_OPCODE_IDLE
	opFreq                = 0xF9 // RDB_OPCODE_FREQ
	opAux                 = 0xFA // RDB_OPCODE_AUX
	opResizeDB            = 0xFB // RDB_OPCODE_RESIZEDB
	opExpireTimeMs        = 0xFC // RDB_OPCODE_EXPIRETIME_MS
	opExpireTime          = 0xFD // RDB_OPCODE_EXPIRETIME
	opSelectDB            = 0xFE // RDB_OPCODE_SELECTDB
	opEOF                 = 0xFF // RDB_OPCODE_EOF

	// opEntRAMLRU is a Redis Enterprise key prefix (opcode 107 followed by a
	// length, per redis/librdb) that open-source readers skip.
	opEntRAMLRU = 107
)

// Kind is the logical type of a value, what the TYPE command answers.
type Kind uint8

const (
	KindString Kind = iota + 1
	KindList
	KindSet
	KindZSet
	KindHash
	KindStream
	KindModule
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindList:
		return "list"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	case KindHash:
		return "hash"
	case KindStream:
		return "stream"
	case KindModule:
		return "module"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Kind returns the logical type stored with this encoding, or 0 for an unknown type.
func (t Type) Kind() Kind {
	switch t {
	case TypeString:
		return KindString
	case TypeList, TypeListZiplist, TypeListQuicklist, TypeListQuicklist2:
		return KindList
	case TypeSet, TypeSetIntset, TypeSetListpack:
		return KindSet
	case TypeZSet, TypeZSet2, TypeZSetZiplist, TypeZSetListpack:
		return KindZSet
	case TypeHash, TypeHashZipmap, TypeHashZiplist, TypeHashListpack, TypeHashMetadataPreGA,
		TypeHashListpackExPreGA, TypeHashMetadata, TypeHashListpackEx, TypeValkeyHash2:
		return KindHash
	case TypeStreamListpacks, TypeStreamListpacks2, TypeStreamListpacks3, TypeStreamListpacks4:
		return KindStream
	case TypeModulePreGA, TypeModule2:
		return KindModule
	}
	return 0
}

var typeNames = map[Type]string{
	TypeString:              "string",
	TypeList:                "list",
	TypeSet:                 "set",
	TypeZSet:                "zset",
	TypeHash:                "hash",
	TypeZSet2:               "zset_2",
	TypeModulePreGA:         "module_pre_ga",
	TypeModule2:             "module_2",
	TypeHashZipmap:          "hash_zipmap",
	TypeListZiplist:         "list_ziplist",
	TypeSetIntset:           "set_intset",
	TypeZSetZiplist:         "zset_ziplist",
	TypeHashZiplist:         "hash_ziplist",
	TypeListQuicklist:       "list_quicklist",
	TypeStreamListpacks:     "stream_listpacks",
	TypeHashListpack:        "hash_listpack",
	TypeZSetListpack:        "zset_listpack",
	TypeListQuicklist2:      "list_quicklist_2",
	TypeStreamListpacks2:    "stream_listpacks_2",
	TypeSetListpack:         "set_listpack",
	TypeStreamListpacks3:    "stream_listpacks_3",
	TypeHashMetadataPreGA:   "hash_metadata_pre_ga",
	TypeHashListpackExPreGA: "hash_listpack_ex_pre_ga",
	TypeHashMetadata:        "hash_metadata",
	TypeHashListpackEx:      "hash_listpack_ex",
	TypeStreamListpacks4:    "stream_listpacks_4",
	TypeValkeyHash2:         "valkey_hash_2",
}

// String returns the encoding name used by redis-check-rdb and in rdbtool's output
// (e.g. "hash_listpack_ex").
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type(%d)", uint16(t))
}

// Wire returns the byte written to the file for this type.
func (t Type) Wire() byte { return byte(t) }

// EntryKind tells which record an Entry holds.
type EntryKind uint8

const (
	EntryAux        EntryKind = iota + 1 // 0xFA: AuxName, AuxValue
	EntrySelectDB                        // 0xFE: DB
	EntryResizeDB                        // 0xFB: DBSize, ExpiresSize
	EntryKey                             // a key and its value: Key, Type, expiry, LRU/LFU; value via NextElem/ReadValue
	EntryFunction                        // 0xF5 (or converted 0xF6): Function
	EntryModuleAux                       // 0xF7: Module
	EntrySlotInfo                        // 0xF4: Slot, SlotSize, SlotExpiresSize
	EntrySlotImport                      // Valkey 0xF3: SlotImport
)

func (k EntryKind) String() string {
	switch k {
	case EntryAux:
		return "aux"
	case EntrySelectDB:
		return "selectdb"
	case EntryResizeDB:
		return "resizedb"
	case EntryKey:
		return "key"
	case EntryFunction:
		return "function"
	case EntryModuleAux:
		return "module_aux"
	case EntrySlotInfo:
		return "slot_info"
	case EntrySlotImport:
		return "slot_import"
	}
	return fmt.Sprintf("entry(%d)", uint8(k))
}
