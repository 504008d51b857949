"""Diagnostics: every problem found in a returned workbook (or an input file), as data.

The CLI, the JSON output, the summary workbook and the history all render these same objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: str  # ERROR sends the workbook back; WARNING is noted on a graded one
    code: str  # stable machine code, e.g. "answer.invalid_points"
    message: str  # what was found and what to do, in the report language
    file: str = ""
    sheet: str = ""
    cell: str = ""  # A1 name as a person sees it, "" when the problem has no cell

    def location(self) -> str:
        parts = [p for p in (self.file, self.sheet, self.cell) if p]
        return " / ".join(parts)

    def to_json(self) -> dict[str, str]:
        data = asdict(self)
        data.pop("file")
        return data


# --- the message catalogue: code -> severity and zh/en templates ----------------------------
# Each message reads: where -> what was found -> what to do. Placeholders are str.format names.

CATALOGUE: dict[str, tuple[str, str, str]] = {
    # the file itself
    "file.empty": (
        ERROR,
        "文件为空（0 字节），无法读取：请在 Excel/WPS 中重新保存检查表后发回。",
        "The file is empty (0 bytes): save the workbook again in Excel/WPS and send it back.",
    ),
    "file.not_spreadsheet": (
        ERROR,
        "文件不是 Excel 工作簿（文件开头为 {head}）：请在 Excel/WPS 中打开下发的检查表，"
        "另存为 .xlsx 后发回。",
        "The file is not an Excel workbook (it starts with {head}): open the issued workbook "
        "in Excel/WPS, save it as .xlsx and send it back.",
    ),
    "file.encrypted": (
        ERROR,
        "文件设置了打开密码，无法读取：请在 Excel/WPS 中清除打开密码（文件 → 信息 → 保护工作簿 → "
        "用密码进行加密，清空后确定）并保存后发回。",
        "The file is protected with a password to open: remove the password (File > Info > "
        "Protect Workbook > Encrypt with Password, clear it), save and send it back.",
    ),
    "file.corrupt": (
        ERROR,
        "文件已损坏，无法读取（{error}）：请在 Excel/WPS 中打开确认内容完好，另存为 .xlsx 后发回。",
        "The file is damaged and cannot be read ({error}): open it in Excel/WPS, check its "
        "content, save it as .xlsx and send it back.",
    ),
    "file.too_many_entries": (
        ERROR,
        "文件内部有 {entries} 个部件，超过上限 {limit} 个，疑似异常文件，未读取："
        "请发回下发的检查表本身。",
        "The file holds {entries} parts, over the limit of {limit}; it was not read: send back "
        "the issued workbook itself.",
    ),
    "file.too_large": (
        ERROR,
        "文件解压后约 {size_mb} MB，超过上限 {limit_mb} MB，未读取：请删除多余的图片和工作表，"
        "另存后发回。",
        "The file unpacks to about {size_mb} MB, over the limit of {limit_mb} MB; it was not "
        "read: remove extra pictures and sheets, save and send it back.",
    ),
    "file.compression_ratio": (
        ERROR,
        "文件部件 {entry} 的压缩比为 {ratio}:1，超过上限 {limit}:1（疑似压缩炸弹），未读取："
        "请发回下发的检查表本身。",
        "The part {entry} is compressed {ratio}:1, over the limit of {limit}:1 (a zip bomb?); "
        "the file was not read: send back the issued workbook itself.",
    ),
    "file.xml_doctype": (
        ERROR,
        "文件部件 {entry} 含有 DOCTYPE/ENTITY 声明（可能是 XML 炸弹），未读取："
        "请在 Excel/WPS 中另存为 .xlsx 后发回。",
        "The part {entry} declares a DOCTYPE/ENTITY (a possible XML bomb); the file was not "
        "read: save it as .xlsx in Excel/WPS and send it back.",
    ),
    "file.sheet_too_large": (
        ERROR,
        "工作表「{name}」的内容延伸到 {corner}（{rows} 行 × {cols} 列，"
        "超过上限 {limit} 个单元格），疑似异常文件，未读取："
        "请删除表格右侧和下方多余的内容，另存后发回。",
        "The sheet '{name}' reaches {corner} ({rows} rows x {cols} columns, over the limit of "
        "{limit} cells); the file was not read: delete the extra content to the right and "
        "below, save and send it back.",
    ),
    "file.reader_failed": (
        ERROR,
        "读取程序处理此文件时失败（{error}），未评分：请在 Excel/WPS 中打开该文件，另存为 .xlsx "
        "后重新发回；其余文件已照常处理。",
        "The reader failed on this file ({error}); it was not graded: open it in Excel/WPS, "
        "save it again as .xlsx and send it back. The other files were processed as usual.",
    ),
    "file.reader_timeout": (
        ERROR,
        "读取此文件超过了 {seconds} 秒的时限，已停止，未评分：请在 Excel/WPS 中打开该文件，"
        "另存为 .xlsx 后重新发回；其余文件已照常处理。",
        "Reading this file took longer than the limit of {seconds} s and was stopped; it was "
        "not graded: open it in Excel/WPS, save it again as .xlsx and send it back. The other "
        "files were processed as usual.",
    ),
    # the manifest and the standard
    "manifest.missing": (
        ERROR,
        "工作簿中没有 audit-xls 的隐藏清单（_manifest 工作表；现有工作表：{sheets}），"
        "不是总部下发的检查表：请使用总部下发的检查表填写后发回。",
        "The workbook has no audit-xls manifest (sheet _manifest; sheets found: {sheets}), so "
        "it is not a workbook issued by HQ: fill in the issued workbook and send it back.",
    ),
    "manifest.foreign": (
        ERROR,
        "_manifest 工作表不是 audit-xls 生成的清单：请使用总部下发的检查表填写后发回。",
        "The _manifest sheet is not an audit-xls manifest: fill in the workbook issued by HQ "
        "and send it back.",
    ),
    "manifest.unknown_template": (
        ERROR,
        "清单中的模板「{template}」未知：请使用总部下发的检查表填写后发回。",
        "The manifest names an unknown template '{template}': fill in the workbook issued by "
        "HQ and send it back.",
    ),
    "manifest.tampered": (
        ERROR,
        "隐藏清单（_manifest）的内容已被修改（校验和不符）：请使用总部下发的原检查表重新填写后发回。",
        "The hidden manifest (_manifest) was edited (its checksum does not match): fill in the "
        "original issued workbook again and send it back.",
    ),
    "manifest.layout": (
        ERROR,
        "检查表的版式与标准 {standard} 的当前版式不一致（由 audit-xls {tool_version} 生成）："
        "请总部用当前版本重新下发检查表，项目重新填写。",
        "The workbook's layout differs from the current layout of {standard} (made by "
        "audit-xls {tool_version}): HQ should issue the workbook again with this version.",
    ),
    "manifest.visible": (
        WARNING,
        "隐藏清单工作表（_manifest）被取消了隐藏，内容未变，已照常评分：请勿修改该工作表。",
        "The hidden manifest sheet (_manifest) was unhidden; its content is unchanged and the "
        "workbook was graded: do not edit that sheet.",
    ),
    "sheet.missing": (
        ERROR,
        "缺少工作表「{name}」（现有工作表：{sheets}），工作表被删除或重命名，无法评分："
        "请使用总部下发的原检查表重新填写，不要删除或重命名工作表。",
        "The sheet '{name}' is missing (the workbook has: {sheets}); it was deleted or renamed "
        "and the workbook cannot be graded: fill in the original issued workbook again and do "
        "not delete or rename its sheets.",
    ),
    "sheet.missing_unscored": (
        WARNING,
        "缺少工作表「{name}」（现有工作表：{sheets}），工作表被删除或重命名；该表不参与评分，"
        "已照常评分：下次请使用原检查表，不要删除或重命名工作表。",
        "The sheet '{name}' is missing (the workbook has: {sheets}); it was deleted or renamed. "
        "It takes no part in the score, so the workbook was graded: next time use the original "
        "workbook and do not delete or rename its sheets.",
    ),
    "standard.unknown": (
        ERROR,
        "检查表使用的标准 {standard_id} 版本 {version}（内容哈希 {hash}）不在标准目录 {folder} 中："
        "请把该版本的标准文件放入标准目录后重新评分，或让项目改填当前下发的检查表。",
        "The workbook uses standard {standard_id} version {version} (content hash {hash}), "
        "which is not in the standards folder {folder}: put that version's file in the folder "
        "and grade again, or have the site fill in the workbook issued now.",
    ),
    # the issued register and the cover
    "issued.not_issued": (
        ERROR,
        "该工作簿（项目 {site_code}，月份 {period}，编号 {workbook_id}）不在发放登记表中"
        "（登记表月份：{periods}）：请确认是否交错了项目或月份的检查表。",
        "This workbook (site {site_code}, period {period}, id {workbook_id}) is not in the "
        "issued register (periods: {periods}): check that the right site's and month's "
        "workbook was sent.",
    ),
    "issued.mismatch": (
        ERROR,
        "清单中的{field}为「{found}」，发放登记表中为「{expected}」：请使用总部下发给本项目的检查表。",
        "The manifest's {field} is '{found}' but the issued register says '{expected}': use "
        "the workbook HQ issued to this site.",
    ),
    "cover.changed": (
        ERROR,
        "{field}为「{found}」，下发时为「{expected}」（锁定内容被修改）：请使用总部下发的原检查表，"
        "不要修改项目信息。",
        "{field} reads '{found}' but was issued as '{expected}' (locked content edited): use "
        "the original issued workbook and do not edit the site details.",
    ),
    "cover.inspector_missing": (
        ERROR,
        "督导人员未填写：请填写督导人员姓名后发回。",
        "The inspector is not filled in: enter the inspector's name and send it back.",
    ),
    "cover.date_missing": (
        ERROR,
        "检查日期未填写：请填写检查当天的日期（{start} 至 {end} 之间）后发回。",
        "The inspection date is not filled in: enter the date of the inspection (between "
        "{start} and {end}) and send it back.",
    ),
    "cover.date_invalid": (
        ERROR,
        "检查日期填了「{found}」，不是日期：请填写如 {start} 的日期后发回。",
        "The inspection date reads '{found}', which is not a date: enter a date such as "
        "{start} and send it back.",
    ),
    "cover.date_outside": (
        ERROR,
        "检查日期 {found} 不在检查月份 {period}（{start} 至 {end}）内：请填写实际检查日期后发回。",
        "The inspection date {found} is outside the period {period} ({start} to {end}): "
        "enter the actual inspection date and send it back.",
    ),
    # locked content of the checklist
    "locked.changed": (
        ERROR,
        "检查表的锁定内容被修改，共 {count} 处：{examples}：请使用总部下发的原检查表重新填写，"
        "不要修改灰色单元格。",
        "Locked content of the checklist was edited in {count} cells: {examples}: fill in the "
        "original issued workbook again and do not edit the grey cells.",
    ),
    "locked.rows_changed": (
        ERROR,
        "检查表的行被删除、插入或移动：{examples}：请使用总部下发的原检查表重新填写，不要增删或移动行。",
        "Checklist rows were deleted, inserted or moved: {examples}: fill in the original "
        "issued workbook again and do not add, delete or move rows.",
    ),
    "locked.formula_edited": (
        ERROR,
        "扣分为 {found}，按标准应为 {expected}（扣分公式被修改）：请使用总部下发的原检查表，"
        "不要修改扣分列。",
        "The deduction reads {found} but the standard gives {expected} (the formula was "
        "edited): use the original issued workbook and do not edit the deduction column.",
    ),
    "checklist.merged": (
        ERROR,
        "单元格 {range} 被合并，覆盖了填写单元格：请取消合并，逐条填写后发回。",
        "Cells {range} were merged over input cells: unmerge them, fill in each row and send "
        "it back.",
    ),
    "checklist.hidden_rows": (
        WARNING,
        "检查表第 {rows} 行被隐藏，已照常读取：请取消隐藏，确认这些行已填写。",
        "Checklist rows {rows} are hidden; they were read as usual: unhide them and check "
        "that they are filled in.",
    ),
    "checklist.formulas_unchecked": (
        WARNING,
        "该格式（{kind}）无法检查填写单元格中的公式，已按显示的值评分：请确认检查结果和问题点数是直接填写的值。",
        "Formulas in input cells cannot be detected in this format ({kind}); the values shown "
        "were graded: make sure results and problem points are typed values.",
    ),
    # answers
    "answer.formula": (
        ERROR,
        "填的是公式而不是值：请删除公式，直接选择或输入值后发回。",
        "This cell holds a formula, not a value: delete the formula, choose or type the value "
        "and send it back.",
    ),
    "answer.invalid_result": (
        ERROR,
        "检查结果填了「{found}」，只能是 {labels}：请从下拉列表中选择。",
        "The result reads '{found}' but must be one of {labels}: choose it from the dropdown.",
    ),
    "answer.invalid_points": (
        ERROR,
        "问题点数填了「{found}」，须为 0-99 的整数：请改为整数（例如 2）。",
        "Problem points read '{found}' but must be a whole number from 0 to 99: type a whole "
        "number (e.g. 2).",
    ),
    "answer.contradictory": (
        ERROR,
        "检查结果为「{result}」却填了问题点数 {points}，前后矛盾：有问题请改选「{fail}」，"
        "否则清空问题点数。",
        "The result is '{result}' yet {points} problem points are entered: choose '{fail}' if "
        "there were problems, else clear the problem points.",
    ),
    "answer.points_without_result": (
        ERROR,
        "填了问题点数 {points}，但检查结果为空：请选择检查结果。",
        "{points} problem points are entered but the result is empty: choose a result.",
    ),
    "answer.fail_without_points": (
        WARNING,
        "检查结果为「{fail}」但问题点数为空，按 1 个问题点计分：不止 1 个问题点时请填写实际点数。",
        "The result is '{fail}' with no problem points; it counts as 1 problem point: enter "
        "the actual number if there were more.",
    ),
    "answer.fail_zero_points": (
        WARNING,
        "检查结果为「{fail}」但问题点数为 0，本条不扣分："
        "有问题请填写实际点数，没有问题请改选「{pass_}」。",
        "The result is '{fail}' with 0 problem points, so nothing is deducted: enter the actual "
        "number, or choose '{pass_}' if there was no problem.",
    ),
    "answer.label_not_exact": (
        WARNING,
        "检查结果「{found}」与下拉选项「{label}」不完全相同（空格、全角或大小写），已按「{label}」评分；"
        "表内的自动扣分不认这种写法，可能与总部评分不同：请从下拉列表选择。",
        "The result '{found}' is not exactly the list entry '{label}' (spaces, full-width or "
        "case); it was graded as '{label}', but the workbook's own formulas do not see it so: "
        "choose from the list.",
    ),
    "answer.unanswered": (
        ERROR,
        "{count} 条检查标准未填写检查结果：{cells}：请逐条选择检查结果后发回。",
        "Criteria with no result ({count}): {cells}: choose a result for each and send it back.",
    ),
    # the batch
    "duplicate.superseded": (
        WARNING,
        "同一工作簿（编号 {workbook_id}）交回了两次：本文件较旧，已由 {newer} 取代，不计入汇总。",
        "The same workbook (id {workbook_id}) came back twice: this older file is superseded "
        "by {newer} and left out of the summary.",
    ),
    "duplicate.kept": (
        WARNING,
        "同一工作簿（编号 {workbook_id}）交回了两次：以本文件（较新）为准，"
        "较旧的 {older} 不计入汇总。",
        "The same workbook (id {workbook_id}) came back twice: this newer file counts; the "
        "older {older} is left out of the summary.",
    ),
    "internal.error": (
        ERROR,
        "读取本文件时发生内部错误（{error}），未评分：请把该文件发给技术支持，其余文件已照常处理。",
        "An internal error occurred while reading this file ({error}); it was not graded: send "
        "the file to support. The other files were processed as usual.",
    ),
}

# Reasons a file in the returns was skipped, not read.
SKIP_REASONS: dict[str, tuple[str, str]] = {
    "skip.et": (
        "WPS 专用格式（.et），无法读取：请在 WPS 中「另存为」Excel 工作簿（.xlsx）后发回。",
        "WPS spreadsheet format (.et) cannot be read: in WPS use Save As > Excel workbook "
        "(.xlsx) and send it back.",
    ),
    "skip.junk": (
        "办公软件生成的临时或系统文件，不是检查表，已忽略。",
        "A temporary or system file made by office software, not a workbook; ignored.",
    ),
    "skip.extension": (
        "不是检查表文件（扩展名 {ext}，只读取 .xlsx/.xlsm/.xls/.ods）：如为检查表请另存为 .xlsx。",
        "Not a workbook file (extension {ext}; only .xlsx/.xlsm/.xls/.ods are read): save it "
        "as .xlsx if it is a workbook.",
    ),
    "skip.unreadable": (
        "无法读取文件（{error}）：请检查文件权限后重新评分。",
        "The file cannot be read ({error}): check its permissions and grade again.",
    ),
    "skip.not_regular": (
        "不是普通文件（管道、设备或失效的链接），未读取：请把检查表文件本身放进文件夹。",
        "Not a regular file (a pipe, device or broken link); not read: put the workbook "
        "file itself in the folder.",
    ),
}


def message(code: str, lang: str = "zh", **params: object) -> str:
    """The catalogue message of `code` in `lang` ("zh" or "en"), filled with `params`."""
    if code in CATALOGUE:
        _, zh, en = CATALOGUE[code]
    else:
        zh, en = SKIP_REASONS[code]
    return (en if lang == "en" else zh).format(**params)


def make(
    code: str,
    lang: str = "zh",
    *,
    file: str = "",
    sheet: str = "",
    cell: str = "",
    **params: object,
) -> Diagnostic:
    """A Diagnostic from the catalogue: severity and message come from `code`."""
    return Diagnostic(CATALOGUE[code][0], code, message(code, lang, **params), file, sheet, cell)
