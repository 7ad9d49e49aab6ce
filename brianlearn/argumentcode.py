"""
The C++ of `brianlearn.codepatch.patch_packed_arguments`: Brian2's ``set_variable_from_file``
(``objects.cpp``) as Brian2 2.9 and 2.10 generate it, and what replaces it.

Brian2 reads each array-valued run argument from a file of its own; a replayed chunk wrote and the
binary opened a dozen small files (EP: 12, ~50 us each on the Python side).
"""

__all__ = ["FROM_FILE", "FROM_FILE_BODY", "FROM_FILE_PACKED"]

#: the function's first line
FROM_FILE = "template<class T> void set_variable_from_file(std::string varname, T* var_pointer, size_t data_size, std::string filename) {\n"
FROM_FILE_BODY = """    ifstream f;
    streampos size;
    #ifdef DEBUG
    std::cout << "Setting '" << varname << "' from file '" << filename << "'" << std::endl;
    #endif
    f.open(filename, ios::in | ios::binary | ios::ate);
    size = f.tellg();
    if (size != data_size) {
        std::cerr << "Error reading '" << filename << "': file size " << size << " does not match expected size " << data_size << std::endl;
        return;
    }
    f.seekg(0, ios::beg);
    if (f.is_open())
        f.read(reinterpret_cast<char *>(var_pointer), data_size);
    else
        std::cerr << "Could not read '" << filename << "'" << std::endl;
    if (f.fail())
        std::cerr << "Error reading '" << filename << "'" << std::endl;
}
"""
FROM_FILE_PACKED = """    // (brianlearn) "FILE@OFFSET:LENGTH": the values are the LENGTH bytes from byte OFFSET of FILE,
    // which may hold others (a replayed run writes all its run arguments into one file). There, a
    // file that cannot be read, or values of another size than the variable's, end the run with
    // status 1; a FILE argument is read as Brian2 reads it (an error is reported and the run goes
    // on with the values the variable had: brianlearn checks those sizes after the run).
    size_t _bl_offset = 0, _bl_length = data_size;
    bool _bl_packed = false;
    const size_t _bl_at = filename.rfind('@');
    if (_bl_at != std::string::npos) {
        const std::string _bl_tail = filename.substr(_bl_at + 1);
        const size_t _bl_colon = _bl_tail.find(':');
        if (_bl_colon != std::string::npos && _bl_colon > 0 && _bl_colon + 1 < _bl_tail.size()
                && _bl_tail.find_first_not_of("0123456789:") == std::string::npos
                && _bl_tail.find(':', _bl_colon + 1) == std::string::npos) {
            _bl_offset = std::stoull(_bl_tail.substr(0, _bl_colon));
            _bl_length = std::stoull(_bl_tail.substr(_bl_colon + 1));
            filename = filename.substr(0, _bl_at);
            _bl_packed = true;
        }
    }
    if (_bl_packed) {
        // (one stream, left open, for all the arguments packed in one file: a replayed chunk opened
        // the same file once per argument)
        static std::ifstream _bl_f;
        static std::string _bl_name;
        if (!_bl_f.is_open() || _bl_name != filename) {
            _bl_f.close();
            _bl_f.open(filename, ios::in | ios::binary);
            _bl_name = filename;
        }
        _bl_f.clear();
        if (_bl_f.is_open() && _bl_length == data_size && _bl_f.seekg(_bl_offset, ios::beg))
            _bl_f.read(reinterpret_cast<char *>(var_pointer), data_size);
        if (!_bl_f.is_open() || _bl_length != data_size || !_bl_f || (size_t)_bl_f.gcount() != data_size) {
            std::cerr << "Error reading '" << varname << "' from '" << filename << "': " << _bl_length
                      << " bytes at byte " << _bl_offset << (_bl_f.is_open() ? "" : " of a file that cannot be read")
                      << ", where the variable has " << data_size << std::endl;
            std::exit(1);
        }
        return;
    }
    ifstream f;
    streampos size;
    #ifdef DEBUG
    std::cout << "Setting '" << varname << "' from file '" << filename << "'" << std::endl;
    #endif
    f.open(filename, ios::in | ios::binary | ios::ate);
    size = f.tellg();
    if (!f.is_open() || size < 0) {
        std::cerr << "Could not read '" << filename << "' for '" << varname << "'" << std::endl;
        return;
    }
    if ((size_t)size != data_size) {
        std::cerr << "Error reading '" << varname << "' from '" << filename << "': " << (size_t)size
                  << " bytes, where the variable has " << data_size << std::endl;
        return;
    }
    f.seekg(0, ios::beg);
    f.read(reinterpret_cast<char *>(var_pointer), data_size);
    if (f.fail())
        std::cerr << "Error reading '" << filename << "' for '" << varname << "'" << std::endl;
}
"""
