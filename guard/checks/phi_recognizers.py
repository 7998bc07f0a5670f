"""Medical PHI recognizers for presidio, and the filters that keep medical words out of PERSON.

Why these exist
---------------
presidio's stock recognizers know generic PII (names, phones, e-mails, SSNs); a hospital
chatbot also sees the identifiers of HIPAA's Safe Harbor list that are medical: medical
record numbers, provider numbers (NPI, DEA), health-plan member ids and dates of birth.
Those have no universal syntax (an MRN is "some digits"), so every recognizer here is
*cue-anchored*: it fires only when a cue ("MRN", "member id", "DOB", "born on") precedes
the value, and it reports the span of the value alone, never the cue. That keeps "400 mg"
or "for 3 days" from ever looking like an identifier. NPI and DEA numbers carry
checksums, which are verified (NPI: Luhn over the value prefixed with 80840, as CMS
specifies; DEA: (d1+d3+d5) + 2*(d2+d4+d6) ends in d7).

The small spaCy model (``en_core_web_sm``) tags a large share of medical words as PERSON:
on a 3,000-question sample of MedQuAD ("What is (are) Lamotrigine ?") 22% of questions
had a PERSON entity (drug names, diseases, eponyms such as "Raynaud", "Crohn",
"Parkinson"). ``MedicalAwareSpacyRecognizer`` therefore keeps a spaCy PERSON only when
something beyond the model says it is a person:

* a cue before it ("Mr.", "Dr.", "my name is", "my son", "patient") or after it
  ("age 45", "DOB", "MRN"), or
* one of its words is a common given name (US Census 1990 given names covering ~85% of
  men and ~80% of women, via the MIT-licensed ``names`` package, plus common modern and
  international names; minus given names that are also ordinary English words, such as
  "Will", "Grace", "June"), or
* it has two or more capitalised words and the last is one of the 2,000 most common US
  surnames, in a segment that is not written in Title Case (two capitalised words alone
  give a score below the default threshold, see ``WEAK_PERSON_SCORE``).

and drops it whenever it contains a drug name, an eponym used as a disease name, a
medical word ("Injection", "Disease"), a medical word ending ("-itis", "-mab", "-pril"),
a digit, or when it is followed by "'s disease", "syndrome", "palsy", and the like.
It also drops a name right after a place word ("in Georgia", "North Carolina"), and in
text written in Title Case (headlines, product lists) it wants a cue. The cost: a lone
surname with no cue ("Patel said...") and a rare given name with no cue ("Xochitl has a
fever") are not redacted.

spaCy also misses names: it labels many plain given names ORG or GPE. Two recognizers
add what it misses: ``CuedPersonRecognizer`` for names a cue makes certain ("my name is
john smith", "Mrs. Okafor", "my daughter Emily") and ``GivenNameRecognizer`` for a
capitalised common given name and the capitalised words after it ("Sandra has a
fever"), under the same filters.

Measured (templated messages, 60 per cell, names drawn from the Census lists): a common
given name is found alone, after a cue, or with a surname 97-100% of the time; a rare given
name with a surname and no cue ~60%; with a cue ("my name is", "Dr.", "my wife") 97-100%.

``sentence_may_hold_name`` turns the rules of ``person_score`` around into the gate that
decides where spaCy's NER runs at all (``guard.checks.phi_nlp``): change them together.
A known given name opens the gate in any case. Lower-case names are not rare for the
model: on 300 templated messages spaCy tagged 46% of lower-case "given surname" names
(92% capitalised), and ``person_score`` kept 26% (91%), all of them with a given name.

LOCATION is *not* in the default entity list (see ``guard.checks.phi``); when a policy
opts into it the same medical-word filter applies. Street addresses and ZIP codes, which
are Safe Harbor identifiers, are covered by their own patterns instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    LocalRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.lang.en.stop_words import STOP_WORDS

__all__ = [
    "DRUG_NAMES",
    "EPONYMS",
    "FIRST_NAMES",
    "MEDICAL_ENTITIES",
    "SURNAMES",
    "CuePattern",
    "CuePatternRecognizer",
    "CuedPersonRecognizer",
    "GivenNameRecognizer",
    "MedicalAwareSpacyRecognizer",
    "dea_checksum_ok",
    "is_probable_location",
    "medical_recognizers",
    "npi_checksum_ok",
    "person_score",
    "sentence_may_hold_name",
]

MEDICAL_ENTITIES: tuple[str, ...] = (
    "MRN",
    "NPI",
    "DEA_NUMBER",
    "HEALTH_PLAN_ID",
    "DATE_OF_BIRTH",
    "STREET_ADDRESS",
    "ZIP_CODE",
)
"""Entities the recognizers in this module produce (besides PERSON and LOCATION)."""


# --------------------------------------------------------------------------- checksums


def npi_checksum_ok(value: str) -> bool:
    """Whether a 10-digit NPI passes its check digit (Luhn over ``80840`` + the NPI).

    CMS, "Requirements for constructing the NPI check digit": the prefix 80840 makes the
    NPI a valid ISO 7812 card-issuer number, so the ordinary Luhn test applies.
    """
    digits = re.sub(r"\D", "", value)
    if len(digits) != 10 or digits[0] not in "12":
        return False
    if len(set(digits[:-1])) == 1:  # 111111111x: a placeholder, not an identifier
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def dea_checksum_ok(value: str) -> bool:
    """Whether a DEA registration number (2 letters + 7 digits) passes its checksum.

    The last digit equals the last digit of (d1 + d3 + d5) + 2 * (d2 + d4 + d6)
    (DEA Diversion Control Division's published format).
    """
    v = re.sub(r"[\s-]", "", value).upper()
    if not re.fullmatch(r"[A-Z][A-Z9]\d{7}", v):
        return False
    d = [int(c) for c in v[2:]]
    total = d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])
    return total % 10 == d[6]


# --------------------------------------------------------------------------- lexicons


def _wordset(words: str) -> frozenset[str]:
    """A frozenset of the whitespace-separated words in ``words`` (keeps the lists readable)."""
    return frozenset(words.split())


_GIVEN_NAMES: frozenset[str] = _wordset(
    """
    aaliyah aaron abby abel abena abigail abraham achieng ada adam addie addison adela adele
    adeline adrian adriana adrienne agnes ahmad ahmed aida aiden aileen aimee aisha akiko alan
    alana albert alberta alberto alejandra alejandro alessandro alex alexander alexandra
    alexandria alexis alfonso alfred alfredo ali alice alicia alisa alisha alison allan allen
    allie allison allyson alma alonzo alta althea alton alvin alyssa ama amanda amelia amie amir
    amit amos amy ana anastasia anders andre andrea andres andrew andy angela angelia angelica
    angelina angeline angelo angie anh anil anita anjali ann anna annabelle anne annette annie
    anthony antoinette antonia antonio aoife archie aria arjun arlene armando arnold arthur
    arturo asher ashlee ashley astrid aubrey audra audrey aurora austin ava avery avis ayesha
    ayodele barbara barbra barry beatrice beatriz becky belinda ben benita benjamin bennie benny
    bernadette bernadine bernard bernice bert bertha bessie beth bethany betsy bette bettie
    betty bettye beulah beverly bianca billie billy blake blanca blanche bob bobbi bobbie bobby
    bonita bonnie boyd brad bradford bradley brandi brandon brandy brayden brenda brendan brent
    bret brett brian brianna bridget bridgette brittany brittney brooke brooklyn bruce bryan
    bryant byron caden caitlin caleb callie calvin cameron camila camille candace candice cara
    carl carla carlos carlton carmela carmella carmen carol carole carolina caroline carolyn
    carrie carroll carter cary casey cassandra cassie catalina catherine cathleen cathy cecelia
    cecil cecile cecilia cedric celeste celia cesar chad chandra charity charlene charles
    charlie charlotte chelsea chen cheri cherie cheryl chester chiara chinedu chloe chris
    christa christi christie christina christine christopher christy ciaran cindy claire clara
    clare clarence clarice clarissa clark claude claudette claudia clay clayton cleo clifford
    clifton clint clinton clyde cody colin colleen colton concepcion connie connor conrad
    constance consuelo cora corey corinne cornelia cornelius corrine cory courtney craig
    cristina curtis cynthia dale dallas damon dan dana daniel danielle danny daphne darcy darin
    darla darlene darnell darrel darrell darren darrin darryl daryl dave david dean deana deanna
    debbie debora deborah debra declan dee deepak delbert delia della delores deloris demetrius
    dena denise dennis derek derrick desiree devin dewayne dewey dexter diana diane dianna
    dianne diego dina divya dixie dmitri dmitry dolly domingo dominic dominick dominique dona
    donald donna donnie dora doreen doris dorothea dorothy dorthy doug douglas doyle drew duane
    duc dustin dwayne dwight dylan earl earline earnest earnestine ebony eddie edgar edith
    edmond edmund edna eduardo edward edwin effie efrain eileen elaine elbert eldon eleanor
    elena elias elijah elinor elisa elisabeth elise eliza elizabeth ella ellen ellis elma elmer
    elnora eloise elsa elsie elva elvira emanuel emeka emil emilia emilio emily emma emmanuel
    emmett enrique eric erica erick ericka erik erika erin erma ernest ernestine ernesto ervin
    esmeralda esperanza essie estela estella estelle ester esther ethan ethel etta eugene
    eugenia eula eunice eva evan eve evelyn everett ezra fannie fatima fay faye felicia felipe
    felix fern fernando flora florence flossie floyd forrest frances francesca francesco
    francine francis francisca francisco francois frankie franklin fred freda freddie frederick
    fredrick freya frieda gabriel gabriela gabrielle gail gale garland garrett garry gary gavin
    gay gayle geneva genevieve geoffrey george georgia georgina gerald geraldine gerard gerardo
    gertrude gilbert gilberto gina giovanni giulia giuseppe gladys glen glenda glenn glenna
    gloria goldie gordon gracie graciela grady grayson greg gregg gregory greta gretchen
    guadalupe guillermo gustavo gwen gwendolyn hailey haley hannah hans harley harold harper
    harriet harriett harry haruto harvey hassan hattie heath heather hector heidi heinz helen
    helena helene henrietta henry herbert herman hilary hilda hillary hiroshi holly homer hong
    horace howard hubert hudson hugh hugo hui humberto huong hussein ian ibrahim ida ignacio ila
    imogene ina inez ingrid ira irene irina irma irvin irving isaac isabel isabella isabelle
    isaiah ismael israel iva ivan jack jackie jackson jaclyn jacob jacqueline jacquelyn jaime
    jake james jami jamie jan jana jane janelle janet janette janice janie janine janis jared
    jasmine jason javier jaxon jay jayden jayne jean jeanette jeanie jeanine jeanne jeannette
    jeannie jeannine jeff jeffery jeffrey jenifer jenna jennie jennifer jenny jerald jeremiah
    jeremy jeri jermaine jerome jerri jerry jess jesse jessica jessie jesus jewel jewell jill
    jillian jim jimmie jimmy jing jo joan joann joanna joanne jocelyn jodi jodie jody joe joel
    joey johanna john johnathan johnnie johnny jolene jon jonathan jonathon joni jordan jorge
    jose josefina joseph josephine josh joshua josie joyce juan juana juanita judith judy julia
    julian julie julio julius jun jurgen justin justine kara karen kari karim karin karina karl
    karla kate katharine katherine kathleen kathryn kathy katie katrina kavya kay kayla kaylee
    keisha keith kelley kelli kellie kelly kelsey kelvin ken kendra kenji kennedy kenneth kenny
    kent keri kerri kerry kevin khadija kim kimberley kimberly kirk kirsten klaus kofi krista
    kristen kristi kristie kristin kristina kristine kristopher kristy krystal kurt kwame kyle
    lacey ladonna lakshmi lamar lamont lana lance landon lara larry lars latasha latisha latonya
    latoya laura laurel lauren laurence laurie laverne lawrence layla lea leah leann leanne lee
    leigh leila lela leland lena lenora lenore leo leola leon leona leonard leroy lesley leslie
    lester letha leticia levi lewis li liam lidia lila lilia lillian lillie lilly lincoln linda
    lindsay lindsey linh lionel lisa liza lizzie lloyd logan lois lola lonnie lora loraine loren
    lorena lorene lorenzo loretta lori lorie lorna lorraine lorrie lottie lou louie louis louisa
    louise lourdes lowell luca lucas lucia lucile lucille lucinda lucy luella luis luisa luke
    lula luna lupe luther luz lydia lyle lynda lynette lynn lynne mabel mable mack mackenzie
    madeline madelyn madison mae magdalena maggie mahmoud makayla malcolm malinda mamie mandy
    manon manuel manuela marc marcella marcia marcie marco marcos marcus marcy margaret
    margarita margie margo margret marguerite maria marian marianne maribel marie marilyn marina
    mario marion marisa marisol marissa maritza marjorie marla marlene marlon marsha marshall
    marta martha martin martina marty marvin mary maryann marylou mason mateo mathew matilda
    matt matteo matthew mattie maude maureen maurice mavis max maxine mayra meagan megan meghan
    mei melanie melba melinda melisa melissa melody melvin meredith merle mia micah michael
    micheal michele michelle miguel mike milagros mildred miles millie milton mindy minerva ming
    minh minnie miranda miriam misty mitchell mohammad mohammed mollie molly mona monica monique
    morgan morris moses muhammad muriel mustafa myra myrna myron myrtle nadine nancy nannie
    naomi natalia natalie natasha nathan nathaniel neal neha neil nelda nell nellie nelson
    nettie neva ngozi niamh nicholas nichole nick nicolas nicole nikki nils nina noah noel noemi
    nola nora noreen norma norman odessa ofelia ola olga olive oliver olivia ollie oluwaseun
    omar opal ora orlando orville oscar otis otto owen pablo padraig paige paisley pam pamela
    patrica patrice patricia patrick patsy patti patty paul paula paulette pauline pearl pearlie
    pedro peggy penelope percy perry pete peter petra peyton phil philip phillip phyllis pierre
    pilar polly pooja preston priscilla priya rachael rachel rachelle rae rafael rahul raj
    rajesh ralph ramesh ramiro ramon ramona randal randall randi randolph randy raquel raul ravi
    raymond reba rebecca rebekah regina reginald rena rene renee rex reynaldo rhoda rhonda
    ricardo richard rick rickey ricky riley rita robbie robert roberta roberto robin robyn
    rochelle rocky roderick rodger rodney rodolfo rogelio roger roland rolando roman ron ronald
    ronda ronnie roosevelt rosa rosalie rosalind rosalinda rosalyn rosario rosemarie rosemary
    rosetta rosie ross roxanne roy ruben ruby rudolph rudy rufus russell ruth ruthie ryan
    sabrina sadie sakura sallie sally salvador salvatore sam samantha samir sammy samuel sandra
    santiago santos sara sarah saul saundra savannah scarlett scott seamus sean sebastian selma
    serena sergei sergey sergio seth shana shane shanna shannon shari sharon sharron shaun
    shauna shawn shawna sheena sheila shelby sheldon shelia shelley shelly sheri sherman sherri
    sherrie sherry sheryl shirley sidney silvia simon simone siobhan sipho skylar socorro sofia
    sondra sonia sonja sonya sophia sophie spencer stacey staci stacie stacy stanley stefan
    stefanie stella stephan stephanie stephen steve steven stewart stuart sue sunil sunita
    suresh susan susana susanne susie suzanne sven svetlana sybil sylvester sylvia tabatha
    tabitha takashi tamara tameka tami tamika tammie tammy tania tanya tara tasha tatiana taylor
    ted teddy terence teresa teri terrance terrell terrence terri terrie terry thabo thanh
    thelma theodore theresa therese thomas tia tiffany tim timmy timothy tina toby todd tom
    tomas tommie tommy toni tonia tony tonya tracey traci tracie tracy travis trent trevor
    tricia trina trisha troy trudy tuan tunde tyler tyrone ursula valarie valentina valeria
    valerie van vanessa velma vera verna vernon veronica vicente vicki vickie vicky victor
    victoria vikram vincent viola violet virgie virgil virginia vivian vladimir wade wallace
    walter wanda wanjiru warren wayne wei wendell wendy wesley whitney wilbert wilbur wilfred
    willa willard william willie willis wilma wilson winifred winnie winston wm wolfgang woodrow
    wyatt xavier ximena xin yan yasmin yoko yolanda yuki yusuf yvette yvonne zachary zainab
    zelma zoe zoey
    """
)
SURNAMES: frozenset[str] = _wordset(
    """
    aaron abbott abel abernathy abraham abrams acevedo ackerman acosta adair adams addison
    adkins aguilar aguirre akers akins albert albright aldrich aldridge alexander alfaro alford
    ali allen allison allred alston alvarado alvarez ambrose ames amos anaya andersen anderson
    andrade andrews anthony aragon archer arellano arias armstrong arnold arredondo arrington
    arroyo arthur ash ashby ashley askew atkins atkinson atwood austin avery avila ayala ayers
    babb babcock baca bacon baez bailey bain baird baker baldwin ball ballard banks barajas
    barber barker barlow barnard barnes barnett barnhart barr barrera barrett barron barrow
    barry bartlett bartley barton bass bassett bateman bates battle bauer bautista baxter beach
    beal bean beard beasley beatty beaver beck becker begay belanger belcher bell bellamy
    beltran benavides bender benitez benjamin bennett benoit benson bentley benton berg berger
    bergeron bergman bermudez bernal bernard berry best betts biggs billings bingham bird bishop
    black blackburn blackman blackmon blackwell blair blake blanchard blanco bland blankenship
    blanton bledsoe blevins bliss block bloom blount blue boggs bolden bolton bond bonds bonilla
    bonner booker boone booth boston boswell bouchard boucher boudreaux bourgeois bowden bowen
    bower bowers bowles bowling bowman boyce boyd boyer boykin boyle bradford bradley bradshaw
    brady bragg branch brand brandon brandt brantley braun bravo bray brennan brewer brewster
    bridges briggs bright britt britton brock brooks broussard brown browne browning bruce
    bruner bruno brunson bryan bryant bryson buchanan buck buckley buckner bullard bullock bunch
    burch burger burgess burgos burke burkett burks burnett burnette burns burr burrell burris
    burroughs burt burton busby bush butcher butler butts byers bynum byrd byrne cabrera cahill
    cain calderon caldwell calhoun call callahan calloway calvert camacho cameron camp campbell
    campos cannon cano cantrell cantu capps cardenas carey carlisle carlson carlton carmichael
    carney caron carpenter carr carrier carrillo carroll carson carter cartwright carver case
    casey cash cassidy castaneda castillo castle castro cates caudill cervantes chacon
    chamberlain chambers champagne champion chan chandler chaney chang chapman chappell charles
    chase chatman chavez chen cherry childers childress childs chin cho choi christensen
    christian christiansen christie christopher chu chung church cisneros clark clarke clay
    clayton clement clements clemons cleveland clifford clifton cline clinton coates cobb
    cochran cody coffey coffman cohen coker colbert cole coleman coley collier collins colon
    colvin combs comer compton conklin conley conn connell connelly conner connolly connor
    connors conrad contreras conway cook cooke cooley coon cooper cope copeland corbett corbin
    corcoran cordero cordova corley cormier cornelius cornell cornett corona correa cortes
    cortez costa costello cote cotton couch coulter courtney covington cowan cox crabtree craft
    craig crain cramer crandall crane crawford crenshaw crews crocker crockett crosby cross
    crouch crow crowder crowe crowell crowley crum crump cruz cuevas cullen culver cummings
    cummins cunningham curran currie curry curtis dahl dailey dale daley dalton daly daniel
    daniels darby darden darling darnell daugherty davenport david davidson davies davila davis
    davison dawkins dawson day deal dean decker dejesus delacruz delaney delarosa deleon delgado
    delong dempsey dennis dennison denny denton devine dewitt diamond diaz dick dickens
    dickerson dickey dickinson dickson diggs dill dillard dillon dixon dobson dodd dodge dodson
    doherty dolan dominguez donahue donaldson donnelly donovan dooley doran dorsey doss dotson
    doty dougherty douglas dove dow dowdy downey downing downs doyle drake draper drew driscoll
    driver drummond duarte dubois dudley duffy dugan duke dukes dumas dunbar duncan dunham
    dunlap dunn dupree duran durham dutton duvall dwyer dye dyer earl early easley eason eastman
    eaton echols eddy edmonds edwards egan elder eldridge elkins elliot elliott ellis ellison
    elmore emerson emery engel england engle english enriquez epps erickson ervin erwin escobar
    esparza espinosa espinoza esposito estes estrada eubanks evans everett ewing fair farley
    farmer farr farrell farris faulk faulkner feldman feliciano felix felton fenton ferguson
    fernandez ferreira ferrell ferris field fields figueroa finch fink finley finn fischer fish
    fisher fitch fitzgerald fitzpatrick flanagan fleming fletcher flint flood flores flowers
    floyd flynn foley fontenot foote forbes ford foreman forrest foster fountain fournier fowler
    fox francis franco frank franklin franks fraser frazier frederick freeman french frey
    friedman friend fritz frost fry frye fuentes fuller fulton funk gabriel gage gagne gagnon
    gaines galindo gallagher gallegos gallo galloway galvan gamble garcia gardner garland garner
    garrett garrison gary garza gaston gates gay gee geiger gentry george gibbons gibbs gibson
    gifford gilbert giles gill gillespie gilliam gillis gilmore gipson givens glass gleason
    glenn glover goddard godfrey godwin goff goins gold goldberg golden goldman goldsmith
    goldstein gomes gomez gonzales gonzalez good goode goodman goodrich goodson goodwin gordon
    gore gorman goss gould grace grady graham granger grant graves gray grayson green greenberg
    greene greenwood greer gregg gregory griffin griffith griggs grimes grimm gross grove grover
    groves grubbs guerra guerrero guevara guidry gunn gunter gustafson guthrie gutierrez guy
    guzman haas hackett hadley hagan hagen hager hahn haines hairston hale haley hall ham
    hamilton hamlin hamm hammer hammond hampton hancock hand haney hankins hanks hanley hanna
    hannah hansen hanson harden hardin harding hardy hare hargrove harmon harper harrell
    harrington harris harrison hart hartley hartman harvey haskins hastings hatch hatcher
    hatfield hathaway hawk hawkins hayden hayes haynes hays haywood head healy heard hearn heath
    hebert hedrick heller helms helton hemphill henderson hendricks hendrickson hendrix henley
    henry hensley henson herbert herman hernandez herndon herrera herring herrington herron hess
    hester hewitt hickey hickman hicks higgins hightower hill hilliard hilton hines hinkle
    hinson hinton ho hobbs hobson hodge hodges hoffman hogan hogue holbrook holcomb holden
    holder holland holley holliday hollingsworth hollis holloway holman holmes holt honeycutt
    hood hooker hooks hooper hoover hope hopkins hopper horn horne horner horton hoskins house
    houser houston howard howe howell hoyt hubbard huber huddleston hudson huerta huff huffman
    huggins hughes hull humphrey hunt hunter hurd hurley hurst hurt hutchins hutchinson
    hutchison hutton huynh hyatt hyde ibarra ingram inman irvin irving irwin isaac ivey jack
    jackson jacob jacobs jacobsen jacobson james jamison jaramillo jarrett jarvis jean jeffers
    jefferson jeffries jenkins jennings jensen jernigan jewell jimenez john johns johnson
    johnston joiner jolly jones jordan jorgensen joseph joyce joyner juarez judd justice kaiser
    kane kaplan katz kauffman kaufman kay kearney keen keenan keene keith keller kelley kelly
    kemp kendall kendrick kennedy kenney kenny kent kern kerns kerr kessler key keyes keys khan
    kidd kilgore kim kimball kimble kincaid king kinney kirby kirk kirkland kirkpatrick kiser
    klein kline knapp knight knowles knox knutson koch koehler koenig kraft kramer krause
    krueger kruse kuhn kurtz kyle lacey lackey lacy ladd ladner laird lake lam lamb lambert
    lancaster land landers landis landry lane lang lange langford langley langston lanier lara
    larkin larsen larson lassiter latham law lawrence lawson lay le leach leal leary leblanc
    ledbetter ledford lee lehman leon leonard leslie lester levine levy lewis light lilly lim
    lin lindsay lindsey link little livingston lloyd locke lockett lockhart lockwood logan
    london long longoria looney lopez lord lott louis love lovell lovett lowe lowery lowry
    lozano lucas lucero lugo lujan luna lund lundy lunsford lusk lutz lyles lynch lynn lyon
    lyons macdonald macias mack mackey madden maddox madison madrid magee maher mahoney major
    maldonado malone maloney manley mann manning mansfield manuel marcum marcus marin marino
    marion marks marquez marrero marsh marshall martin martinez mason massey masters mata
    mathews mathis matos matthews maurer maxwell may mayberry mayer mayes mayfield maynard mayo
    mays mcallister mcbride mccabe mccain mccall mccann mccarthy mccarty mccauley mcclain
    mcclellan mcclendon mcclure mccollum mcconnell mccord mccormick mccoy mccracken mccray
    mccullough mcdaniel mcdermott mcdonald mcdonough mcdowell mcelroy mcfadden mcfarland mcgee
    mcghee mcgill mcginnis mcgowan mcgrath mcgraw mcguire mcintosh mcintyre mckay mckee mckenna
    mckenzie mckinley mckinney mckinnon mcknight mclain mclaughlin mclean mcleod mcmahon mcmanus
    mcmillan mcmullen mcnair mcnally mcnamara mcneal mcneil mcneill mcpherson mcqueen mcrae
    mcwilliams mead meade meadows means medeiros medina medrano meeks meier mejia melendez
    melton melvin mendez mendoza mercado mercer meredith merrill merritt messer metcalf metz
    meyer meyers meza michael michaud michel middleton miles miller milligan mills milton mims
    miner minor miranda mitchell mobley mock mohr molina monroe montano montes montgomery
    montoya moody moon mooney moore mora morales moran moreland moreno morgan morin morris
    morrison morrow morse morton moseley moser moses mosley moss moyer mueller mullen muller
    mullins muniz munoz munson murdock murillo murphy murray myers myles myrick nadeau nance
    napier naquin nash nava navarro neal neely neff negron nelson newell newman newsome newton
    nguyen nicholas nichols nicholson nickerson nielsen nieves nix nixon noble noel nolan norman
    norris north norton norwood novak numbers nunez oakes oakley obrien ochoa oconnell oconnor
    odell odom odonnell ogden ohara oleary oliver olsen olson oneal oneil oneill orozco orr
    ortega ortiz osborn osborne otero ott otto ouellette overton owen owens pace pacheco pack
    padgett padilla pagan page paige painter palacios palmer parham park parker parks parr parra
    parrish parson parsons pate patel patrick patterson patton paul paulson payne payton peacock
    pearce pearson peck pelletier pena pendleton penn pennington peoples perdue pereira perez
    perkins perry person peters petersen peterson pettit petty pham phelps phillips phipps
    pickens pickett pierce pierre pierson pike pina pineda piper pittman pitts platt plummer poe
    polk pollard pollock ponce pool poole pope porter posey post potter potts powell powers
    prater prather pratt prescott presley preston price prince pritchard pritchett proctor
    pruitt pryor puckett pugh purcell purvis putnam queen quick quinn quinones quintana quintero
    ragland raines rainey ramey ramirez ramos ramsey randall randle randolph rangel rankin
    ransom rasmussen ratliff ray raymond read reagan reaves redmond reece reed reeder reese
    reeves reid reilly reyes reyna reynolds rhoades rhodes rice rich richard richards richardson
    richey richmond richter ricks riddle riggs riley rios ritchie ritter rivas rivera rivers
    roach roark robbins roberson roberts robertson robinson robison robles rocha rock rodgers
    rodrigues rodriguez rodriquez roe rogers rojas roland rollins roman romano romero romo root
    roper rosa rosado rosales rosario rosas rose rosen rosenberg ross rossi roth rouse rowe
    rowell rowland roy rubin rubio rucker rudd rudolph ruffin ruiz rush rushing russell russo
    rutherford rutledge ryan sadler saenz salas salazar saldana salgado salinas salter sampson
    sams samuel samuels sanchez sanders sanderson sandoval sands sanford santana santiago santos
    sapp sargent saunders savage sawyer schaefer schafer schaffer schmidt schmitt schmitz
    schneider schroeder schultz schulz schwartz scott scruggs seals sears seay segura self
    sellers serrano sewell sexton seymour shafer shaffer shannon shapiro sharp sharpe shaver
    shaw shea shearer sheehan sheets sheffield sheldon shelton shepard shepherd sheppard
    sheridan sherman sherwood shields shipley shipman shirley shoemaker shook short shultz
    siegel sierra silva silver simmons simms simon simons simpson sims sinclair singer singh
    singleton sizemore skaggs skinner slater slaughter sloan small smallwood smart smiley smith
    sneed snell snider snow snyder solis solomon sorensen sosa soto souza spangler sparks
    spaulding spears spence spencer spicer spivey sprague springer stacy stafford stahl staley
    stallings stanford stanley stanton staples stapleton stark starks starnes starr staton
    steele stein steiner stephens stephenson sterling stern stevens stevenson steward stewart
    stiles stinson stokes stone story stout stovall stover stratton street strickland stringer
    strong stroud stuart stubbs suarez suggs sullivan summers sumner sutherland sutton swain
    swan swanson swartz sweeney sweet swenson swift sykes sylvester tabor tackett talbot talley
    tanner tapia tate tatum taylor teague temple terrell terry thacker thayer thomas thomason
    thompson thomson thorne thornton thorpe thurman tidwell tilley tillman timmons tipton tobin
    todd tolbert tomlinson tompkins toney torres tovar townsend tracy tran travis trejo trent
    trevino triplett tripp trotter trujillo tucker turner tuttle tyler tyson underwood valdez
    valencia valentin valentine valenzuela valle vance vang vann vargas varner vasquez vaughan
    vaughn vazquez vega vela velasquez velazquez velez ventura vera vernon vick vickers vigil
    villa villalobos villanueva villarreal villegas vincent vinson vogel vogt voss waddell wade
    wagner walden waldron walker wall wallace waller walls walsh walter walters walton wang ward
    ware warner warren washburn washington waters watkins watson watts weaver webb webber weber
    webster weeks weir weiss welch wells welsh werner wesley west westbrook weston whalen whaley
    wheeler whitaker white whitehead whitfield whitley whitlock whitman whitney whitt whittaker
    whitten wiggins wilcox wilder wiley wilkerson wilkes wilkins wilkinson willard william
    williams williamson willis wills wilson winkler winn winslow winston winter winters wise
    wiseman witherspoon witt wolf wolfe wolff womack wong wood woodall woodard woodruff woods
    woodson woodward woody wooten workman worley wray wright wu wyatt wynn xiong yang yarbrough
    yates yazzie ybarra yeager yoder york young youngblood yu zamora zapata zavala ziegler
    zimmerman zuniga
    """
)
"""The 2,000 most frequent US surnames (US Census 1990, same source as ``FIRST_NAMES``).

Used only for multi-word candidates ("Xochitl Ramirez"): a lone surname is too often an
English word ("Baker", "Bell", "Young") to count on its own.
"""

_NOT_NAMES: frozenset[str] = _wordset(
    """
    amelia basil brandy candy cherry clay del ester fern gay heather herb holly ima jack
    jan jewel laurel les miles myrtle olive ora pearl rob rosemary ruby sage sherry sol
    sue van vera violet willow jasmine roman misty rocky
    """
)
"""Given names that are also medical, botanical or everyday words ("aloe vera", "sage",
"amelia" is a birth defect, "ester" a compound); kept out of ``FIRST_NAMES`` so that a
capitalised "Sage tea" or "Vera" is not taken for a person."""

FIRST_NAMES: frozenset[str] = _GIVEN_NAMES - _NOT_NAMES
"""Common given names, lower case (see the module docstring for the source)."""

EPONYMS: frozenset[str] = _wordset(
    """
    addison alzheimer alzheimers asperger aspergers babinski barre barré barrett bartholin
    behcet behçet bell bowen bowens broca brudzinski burkitt charcot chvostek colles conn
    creutzfeldt crohn crohns cushing cushings danlos devic doppler duchenne dupuytren
    ehlers ewing fabry fallot fournier friedreich gaucher gehrig gilbert graves guillain
    hashimoto hashimotos heberden hirschsprung hodgkin hodgkins horner huntington
    huntingtons jakob kaposi kawasaki kearns kell kernig klinefelter korsakoff kussmaul
    lhermitte marfan meniere ménière mallory menkes munchausen niemann noonan osgood osler
    paget parkinson parkinsons peyronie prader raynaud raynauds reiter rendu rett reye
    romberg sjogren sjögren sjgren sturge tay tourette tourettes trousseau turner virchow
    werlhof wernicke willebrand willi wilms wolff zollinger kaposis menieres bells
    pott hurler scheuermann legg perthes sever kienbock lisfranc baker morton dubin unna
    """
)
"""Surnames used as disease, sign or test names in medical text.

Denied as PERSON outright, because in consumer health questions they are far more often a
disease ("Is Parkinson's hereditary?") than a person. A few are also common surnames
(Baker, Turner, Bell): a patient named Turner with no given name and no cue is missed.
"""

DRUG_NAMES: frozenset[str] = _wordset(
    """
    tylenol advil motrin aleve excedrin bayer aspirin benadryl claritin zyrtec allegra
    sudafed mucinex robitussin nyquil dayquil pepto bismol imodium tums prilosec nexium
    zantac pepcid xanax valium ativan klonopin ambien lexapro zoloft prozac paxil celexa
    wellbutrin effexor cymbalta lipitor crestor zocor plavix eliquis xarelto coumadin
    warfarin lasix norvasc synthroid levoxyl glucophage januvia ozempic wegovy mounjaro
    zepbound trulicity jardiance farxiga humira enbrel keytruda viagra cialis adderall
    ritalin vyvanse concerta suboxone narcan vicodin percocet oxycontin norco tramadol
    ultram neurontin lyrica flexeril medrol augmentin zithromax cipro keflex bactrim
    flagyl diflucan valtrex tamiflu paxlovid singulair flonase ventolin albuterol
    symbicort advair spiriva lantus humalog novolog metformin lisinopril losartan
    atorvastatin levothyroxine amlodipine omeprazole gabapentin sertraline ibuprofen
    acetaminophen paracetamol naproxen prednisone amoxicillin azithromycin doxycycline
    cephalexin ciprofloxacin hydrocodone oxycodone morphine fentanyl codeine insulin
    heparin xyzal dramamine midol monistat provera yaz mirena nuvaring depo seroquel
    abilify risperdal zyprexa lamictal depakote tegretol keppra topamax dilantin
    lithium buspar trazodone remeron elavil pamelor restoril halcion lunesta sonata
    belsomra aricept namenda sinemet requip mirapex imitrex maxalt relpax aimovig
    botox prolia fosamax boniva evista premarin estrace clomid lupron
    tamoxifen arimidex femara herceptin avastin rituxan remicade stelara cosentyx
    dupixent xolair nucala otezla rinvoq xeljanz olumiant entresto brilinta pradaxa
    savaysa lovenox toprol lopressor coreg tenormin zestril prinivil diovan cozaar
    benicar micardis avapro hyzaar zetia vytorin tricor lovaza niaspan welchol
    actos avandia amaryl glucotrol invokana rybelsus victoza byetta saxenda contrave
    qsymia phentermine orlistat alli chantix nicorette zyban antabuse campral vivitrol
    sublocade methadone subutex naloxone kloxxado evzio epipen auvi glucagon baqsimi
    ozempics tylenols advils dilaudid demerol toradol celebrex mobic voltaren arthrotec
    colchicine colcrys uloric zyloprim allopurinol probenecid krystexxa medrol
    decadron solumedrol kenalog cortisone hydrocortisone cortef florinef
    scholl scholls google pepper
    """
)
"""Common drug names (brands and generics US patients use by name), and a few brands
that look like "Dr. <name>" ("Dr. Scholl's", "Dr. Google").

Denied as PERSON and LOCATION: spaCy's small model tags capitalised drug names as
people, and a redacted drug name ("Is [PERSON_1] safe with [PERSON_2]?") destroys the
very question the model must answer.
"""

_MEDICAL_WORDS: frozenset[str] = _wordset(
    """
    disease diseases syndrome syndromes disorder disorders injection injections tablet
    tablets capsule capsules topical spray cream ointment solution suspension oral patch
    inhaler vaccine vaccines cancer cancers tumor tumors tumour tumours infection
    infections acid acids hydroxide chloride sulfate sulphate sodium potassium calcium
    magnesium zinc iron vitamin vitamins lung lungs knee knees skin muscle muscles kidney
    kidneys liver heart brain blood bone bones gums pulmonary cardiac renal hepatic test
    tests therapy surgery treatment virus fever pain anemia anaemia diarrhea diarrhoea
    heartburn delirium covid coronavirus ebola zika lupus clostridium leukemia leukaemia
    anorexia bulimia nervosa twitches types type stage grade chronic acute syndrome
    hepatitis hep herpes measles mumps rubella polio tetanus rabies influenza flu shingles
    scan mri ct xray x-ray ultrasound biopsy node nodes gland glands tract duct valve
    response complications volume volumes grafting fertilization vitro cell cells
    receptor gene genes protein hormone enzyme antibody antibodies dose doses mg
    doctor doc physician nurse surgeon pharmacist therapist clinic hospital
    extract oil tea root seed leaf powder supplement supplements herbal aloe wort
    arm arms leg legs hand hands foot feet eye eyes ear ears nose throat chest back neck
    stomach belly abdomen hip hips shoulder shoulders wrist ankle elbow finger toe
    """
)
"""Words that never form part of a person's name in this domain."""

_TITLES: frozenset[str] = _wordset(
    "mr mrs ms mx miss dr doctor doc prof professor nurse sir madam mister"
)
_PARTICLES: frozenset[str] = _wordset(
    "von van de der den da di del della la le du bin ibn al el st dos das"
)
_STOP_AFTER_NAME: frozenset[str] = _wordset(
    """
    and or but i im i'm is am was are and so my me the a an to in on at for with from of
    not no yes hi hello hey thanks thank please who what when where why how have has had
    do does did can could would should will just also very really
    """
)

_MEDICAL_SUFFIX = re.compile(
    r"(?:itis|osis|oses|iasis|emia|aemia|oma|omas|pathy|pathies|algia|plasia|trophy|ectomy"
    r"|otomy|ostomy|plasty|scopy|graphy|cele|penia|philia|phobia|uria|rrhea|rrhoea|cephaly"
    r"|megaly|lepsy|plegia|paresis|esthesia|aesthesia|mab|tinib|zumab|ximab|umab|pril"
    r"|sartan|olol|azole|afil|statin|navir|cillin|mycin|micin|floxacin|cycline|dronate"
    r"|tidine|prazole|triptan|setron|lukast|gliptin|gliflozin|glutide|parin|xaban|oxetine"
    r"|azepam|azolam|barbital|caine|profen|fenac|olone|asone|dipine|semide|thiazide|zosin"
    r"|terol|tropium|coccus|bacter|virus|vaccine|amine|azine|idine|oxacin|trexate|platin"
    r"|taxel|rubicin|ipramine|triptyline|zodone|apine|idone|ectasia"
    r"|sclerosis|cardia|tension|ptysis|emesis|phagia|phasia|pnea|pnoea|lysis|genesis)$"
)
"""Word endings of drugs (INN stems) and diseases; a name with one is not a person."""

WEAK_PERSON_SCORE = 0.4
"""Score of a PERSON whose only evidence is two capitalised words and spaCy's tag.

Below the default threshold (0.5) on purpose: in medical text product and disease names
are title-cased ("Bee Pollen", "Varicose Veins", "Desmopressin Nasal"); on MedQuAD these
were all of the remaining PERSON false positives. A policy that lowers its threshold gets
them back, and with them more recall for rare names.
"""

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’]s?$")

_PERSON_CUE_BEFORE = re.compile(
    r"(?i:\b(?:mr|mrs|ms|mx|miss|dr|prof|professor|nurse|my\s+name\s+is|name\s+is"
    r"|name's|named|called|patient|pt|son|daughter|wife|husband|partner|spouse|mother"
    r"|father|mom|mum|mommy|mummy|dad|daddy|brother|sister|grandson|granddaughter"
    r"|grandmother|grandfather|grandma|grandpa|granny|aunt|auntie|uncle|nephew|niece"
    r"|cousin|friend|boyfriend|girlfriend|fianc[eé]e?|baby|child|kid|toddler|neighbou?r"
    r"|colleague|co-?worker|boss|caregiver|carer|roommate|signed|regards|sincerely|cc"
    r"|thanks|thank\s+you|cheers|best)"
    r"\b\.?,?:?\s*(?:is\s+)?(?:[A-Z][\w'’-]*\s+)?$)"
)
_PERSON_CUE_AFTER = re.compile(
    r"^(?:['’]s?)?\s*[,(]?\s*(?:(?:age[d]?\s*)?\d{1,3}\s*(?:y/?o\b|yo\b|years?\b|yrs?\b"
    r"|-year-old|[MF]\b)|DOB\b|D\.O\.B|MRN\b|born\b|date\s+of\s+birth)",
)
_EPONYM_AFTER = re.compile(
    r"^(?:['’]s?)?\s*(?:[-–]\s*[A-Z][\w'’]*\s*)?(?:(?:de|von|van|la|le|du|del|di)\s+)?"
    r"(?:[A-Z][\w'’]*\s+)?(?:disease|syndrome"
    r"|disorder|palsy|sign|test|phenomenon|contracture|ulcer|cyst|lymphoma|sarcoma"
    r"|tumou?r|neuroma|node|esophagus|oesophagus|anomaly|reflex|man[oe]e?uvre?|maneuver"
    r"|procedure|operation|fracture|classification|scale|score|criteria|law|triad|effect"
    r"|ratio|gland|duct|cell|cells|cyst|ataxia|dystrophy|chorea|encephalopathy|psychosis"
    r"|dementia|arthritis|anemia|anaemia|type|virus|infection|pain|sequence|congenital"
    r"|hereditary|familial|hypotrichosis|dysplasia|disease|wort|surgery|repair|method|diet"
    r"|technique|position|solution|formula|criteria|paralysis|porphyria|neuralgia|tremor"
    r"|sarcoidosis|spot|spots|membrane|nodes)\b",
    re.IGNORECASE,
)


_PLACE_BEFORE = re.compile(
    r"(?i:\b(?:in|at|near|north|south|east|west|northern|southern|eastern|western|central"
    r"|new|downtown|rural|upstate)\s+)$"
)
"""Words before a place: "in Georgia", "North Carolina", "near Austin" (given names that
are also places). A following possessive ("in Sarah's case") still means a person."""
_NEXT_WORD = re.compile(r"^[ \t]+([A-Z][a-z]+)")


def _words(span_text: str) -> list[str]:
    return [_POSSESSIVE.sub("", w) for w in _WORD.findall(span_text)]


def _is_title_case_text(text: str) -> bool:
    """Whether most words of ``text`` are capitalised (a headline, a title, a drug list).

    In such text capitalisation says nothing about names, so the two-capitalised-words
    rule must not apply.
    """
    words = [w for w in _WORD.findall(text) if len(w) > 3]
    if len(words) < 4:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised / len(words) >= 0.6


def _is_medical_word(lower: str) -> bool:
    base = _POSSESSIVE.sub("", lower)
    if base in _MEDICAL_WORDS or base in DRUG_NAMES or base in EPONYMS:
        return True
    for part in re.split(r"[-–]", base):
        if part in EPONYMS or part in DRUG_NAMES or part in _MEDICAL_WORDS:
            return True
        if part not in FIRST_NAMES and len(part) >= 5 and _MEDICAL_SUFFIX.search(part):
            return True
    return False


def person_score(text: str, start: int, end: int, base_score: float) -> float | None:
    """The score to keep a PERSON candidate ``text[start:end]`` with, or ``None`` to drop it.

    The rules and their reasons are in the module docstring. Pure, so it is unit-tested
    without a model.
    """
    span = text[start:end]
    if any(ch.isdigit() for ch in span):
        return None
    words = [w for w in _words(span) if w.lower().rstrip(".") not in _TITLES]
    if not words:
        return None
    lowered = [w.lower() for w in words]
    if any(_is_medical_word(w) for w in lowered):
        return None
    after = text[end : end + 60]
    if _EPONYM_AFTER.match(after):
        return None
    following = _NEXT_WORD.match(after)
    if following and _is_medical_word(following.group(1).lower()):
        return None  # "Rocky Mountain Spotted Fever": a modifier of a medical term
    before = text[max(0, start - 40) : start]
    if _PLACE_BEFORE.search(before) and not re.match(r"['’]", after):
        return None
    cued = bool(_PERSON_CUE_BEFORE.search(before) or _PERSON_CUE_AFTER.match(after))

    named = [w for w, lw in zip(words, lowered, strict=True) if lw not in _PARTICLES]
    if not named:
        return None
    capitalised = all(w[0].isupper() for w in named)
    has_given_name = any(w.lower() in FIRST_NAMES for w in named)
    acronym = any(len(w) > 1 and w.isupper() for w in named)
    if acronym and not has_given_name:
        return None  # "LEEP", "VCUG", "MS": abbreviations, not names
    if cued and (capitalised or has_given_name):
        return base_score
    if not capitalised:
        return None
    title_case = _is_title_case_text(text)
    if has_given_name and not title_case:
        return base_score
    if len(named) >= 2 and named[-1].lower() in SURNAMES and not title_case:
        return base_score
    if len(named) >= 2 and all(len(w) > 1 for w in named) and not title_case:
        return min(base_score, WEAK_PERSON_SCORE)
    return None


def is_probable_location(text: str, start: int, end: int) -> bool:
    """Whether a spaCy LOCATION candidate is a place rather than a medical word.

    spaCy's small model tags "dysphagia", "Kawasaki" and drug names as places; a place
    name is capitalised and has no medical word or ending.
    """
    span = text[start:end]
    words = _words(span)
    if not words or any(ch.isdigit() for ch in span):
        return False
    if any(_is_medical_word(w.lower()) for w in words):
        return False
    if _EPONYM_AFTER.match(text[end : end + 60]):
        return False
    return all(w[0].isupper() or w.lower() in _PARTICLES or w.lower() == "of" for w in words)


# ------------------------------------------------------------------------------- NER gate

_CUE_ONLY_WORDS: frozenset[str] = _wordset(
    """
    i i'm i’m i've i’ve i'd i’d i'll i’ll im ive
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    """
)
"""Capitalised words that can be part of a kept PERSON only with a cue: "I" and its
contractions, days and months (capitalised by spelling, not because they name anyone)."""

_STOP_WORDS: frozenset[str] = frozenset(STOP_WORDS)

_CLAUSE_OPENER = re.compile(r"[:;(\[\"“‘—–]|\*\*|\s-\s")
"""Between two words, something after which the next word is capitalised by position
("**Rest:** Get plenty of sleep", "(See below)"), like the first word of a sentence."""


def sentence_may_hold_name(
    text: str, start: int = 0, end: int | None = None, *, locations: bool = False
) -> bool:
    """Whether spaCy NER on the sentence ``text[start:end]`` could yield a result we keep.

    A necessary condition, derived from ``person_score``, for a spaCy PERSON to survive:
    the span has a word from ``FIRST_NAMES`` (any case), or all its words are
    capitalised. So a sentence needs NER when one of its words is

    * a common given name, in any case ("Sandra", "my name is david"), or
    * capitalised and not the first word of the sentence or clause, not an acronym, a
      title or a medical word (person_score drops spans with acronyms or medical words
      and ignores titles), or
    * capitalised, first in its sentence or clause (or "I", a day or a month), and cued
      as ``person_score`` cues: "Regards,\\nOkafor", "Okafor, 45 years old". Without a
      cue such a word can only be kept together with another capitalised word, which
      triggers on its own.

    With ``locations`` (LOCATION requested; ``is_probable_location`` keeps any
    capitalised non-medical span) every capitalised word except "I" forms, days, months,
    medical words and sentence-initial stop words ("What", "My") triggers.

    Pure and cheap (regexes and set look-ups); ``guard.checks.phi_nlp`` runs spaCy's NER
    only on the sentences for which this is true.
    """
    stop = len(text) if end is None else end
    previous_end = -1
    for match in _WORD.finditer(text, start, stop):
        word = match.group(0)
        word_start, last_end, previous_end = match.start(), previous_end, match.end()
        if "'" in word or "’" in word:
            word = _POSSESSIVE.sub("", word)
        lower = word.lower()
        if lower in FIRST_NAMES:
            return True
        if not word[0].isupper() or _is_medical_word(lower):
            continue
        initial = last_end < 0 or bool(_CLAUSE_OPENER.search(text, last_end, word_start))
        if locations:
            if lower in _CUE_ONLY_WORDS or (initial and lower in _STOP_WORDS):
                continue
            return True
        if (len(word) > 1 and word.isupper()) or lower.rstrip(".") in _TITLES:
            continue
        if initial or len(word) == 1 or lower in _CUE_ONLY_WORDS:
            word_end = word_start + len(word)
            if _PERSON_CUE_BEFORE.search(
                text[max(0, word_start - 40) : word_start]
            ) or _PERSON_CUE_AFTER.match(text[word_end : word_end + 60]):
                return True
            continue
        return True
    return False


# --------------------------------------------------------------------------- recognizers


def _result(
    recognizer: str,
    entity: str,
    start: int,
    end: int,
    score: float,
    pattern_name: str,
) -> RecognizerResult:
    explanation = AnalysisExplanation(
        recognizer=recognizer,
        original_score=score,
        pattern_name=pattern_name,
        textual_explanation=f"{recognizer}: {pattern_name}",
    )
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=score,
        analysis_explanation=explanation,
        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: recognizer},
    )


@dataclass(frozen=True, slots=True)
class CuePattern:
    """One way to find an entity: a regex whose named group ``value`` is the identifier.

    ``validate`` (when given) must accept the value, else the match is dropped;
    ``score`` is the confidence of a validated match.
    """

    name: str
    regex: re.Pattern[str]
    score: float
    validate: Callable[[str], bool] | None = None


class _TextRecognizer(LocalRecognizer):
    """A recognizer of one entity that works on the text alone: nothing to load, no NLP."""

    name: str  # set by presidio's EntityRecognizer

    def __init__(self, entity: str, name: str, score: float = 0.85) -> None:
        super().__init__(supported_entities=[entity], name=name, supported_language="en")
        self._entity = entity
        self._score = score

    def load(self) -> None:
        """Nothing to load: patterns and name lists are built at import."""


class CuePatternRecognizer(_TextRecognizer):
    """Regex recognizer that reports the ``value`` group only, not the cue before it.

    presidio's ``PatternRecognizer`` reports the whole match, which would redact "MRN" along
    with the number, and relies on a context enhancer that also boosts matches far from
    their cue. Anchoring the cue inside the regex is stricter and cheaper.
    """

    def __init__(self, entity: str, patterns: Sequence[CuePattern], name: str) -> None:
        super().__init__(entity, name)
        self._patterns = tuple(patterns)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self._entity not in entities:
            return []
        results: list[RecognizerResult] = []
        for pattern in self._patterns:
            for match in pattern.regex.finditer(text):
                value = match.group("value")
                if value is None:
                    continue
                if pattern.validate is not None and not pattern.validate(value):
                    continue
                start, end = match.span("value")
                results.append(
                    _result(self.name, self._entity, start, end, pattern.score, pattern.name)
                )
        return results


class MedicalAwareSpacyRecognizer(SpacyRecognizer):
    """spaCy NER for PERSON (and LOCATION when asked), minus medical words.

    See the module docstring for why the small model's PERSON needs a second opinion.
    """

    def __init__(self, supported_entities: Sequence[str] = ("PERSON", "LOCATION")) -> None:
        super().__init__(
            supported_language="en",
            supported_entities=list(supported_entities),
            name="SpacyRecognizer",
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        kept: list[RecognizerResult] = []
        raw: list[RecognizerResult] = super().analyze(text, entities, nlp_artifacts)
        for result in raw:
            if result.entity_type == "PERSON":
                score = person_score(text, result.start, result.end, result.score)
                if score is None:
                    continue
                start, end = _trim_possessive(text, result.start, result.end)
                result.start, result.end, result.score = start, end, score
                kept.append(result)
            elif result.entity_type == "LOCATION":
                if is_probable_location(text, result.start, result.end):
                    kept.append(result)
            else:
                kept.append(result)
        return kept


def _trim_possessive(text: str, start: int, end: int) -> tuple[int, int]:
    """Leave a trailing "'s" outside the span so "[PERSON_1]'s" still reads well."""
    m = re.search(r"['’]s?$", text[start:end])
    if m and end - start - len(m.group(0)) > 0:
        end -= len(m.group(0))
    return start, end


_NAME_WORD = r"[A-Za-z][A-Za-z'’\-]*"
_RELATIONS = (
    r"son|daughter|wife|husband|partner|spouse|mother|father|mom|mum|dad|brother|sister"
    r"|grandson|granddaughter|grandmother|grandfather|grandma|grandpa|aunt|uncle|nephew"
    r"|niece|cousin|friend|boyfriend|girlfriend|baby|child|kid|neighbou?r|roommate"
    r"|patient|client|caregiver"
)


class CuedPersonRecognizer(_TextRecognizer):
    """Names that a cue makes certain even when spaCy does not tag them.

    "Mrs. Okafor", "Dr Patel", "my name is john smith", "patient name: Ana Li", "my
    daughter Emily". The small
    spaCy model misses lower-case names and many non-English surnames; after a title or
    "my name is" the next capitalised words are a name. Lower-case words are taken only when
    the first is a known given name ("my name is sorry" is not a name).
    """

    _TITLE = re.compile(
        r"\b(?i:mr|mrs|ms|mx|dr|prof)\.?[ \t]+(?P<value>[A-Z][A-Za-z'’\-]+"
        r"(?:[ \t]+[A-Z][A-Za-z'’\-]+)?)"
    )
    _INTRO = re.compile(
        r"\b(?i:my\s+name\s+is|my\s+name's|(?:patient(?:'s)?\s+)?name\s*:"
        r"|patient(?:'s)?\s+name\s+is)[ \t]*(?P<value>"
        + _NAME_WORD
        + r"(?:[ \t]+"
        + _NAME_WORD
        + r"){0,2})"
    )

    _RELATION = re.compile(
        r"\b(?i:my|our|his|her|their)[ \t]+(?i:" + _RELATIONS + r")[ \t]*,?[ \t]+"
        r"(?P<value>[A-Z][A-Za-z'’\-]+(?:[ \t]+[A-Z][A-Za-z'’\-]+)?)"
    )

    def __init__(self, score: float = 0.85) -> None:
        super().__init__("PERSON", "CuedPersonRecognizer", score)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        results: list[RecognizerResult] = []
        patterns = (
            (self._TITLE, "title"),
            (self._INTRO, "introduction"),
            (self._RELATION, "relation"),
        )
        for regex, pattern_name in patterns:
            for match in regex.finditer(text):
                span = self._name_span(text, match.start("value"), match.end("value"))
                if span is not None:
                    results.append(
                        _result(self.name, "PERSON", span[0], span[1], self._score, pattern_name)
                    )
        return results

    @staticmethod
    def _name_span(text: str, start: int, end: int) -> tuple[int, int] | None:
        """The longest run of name-like words from ``start``, or ``None``."""
        last_end: int | None = None
        first = True
        for m in re.finditer(_NAME_WORD, text[start:end]):
            word = _POSSESSIVE.sub("", m.group(0))
            lower = word.lower()
            if lower in _STOP_AFTER_NAME or _is_medical_word(lower) or lower in _TITLES:
                break
            if first and not word[0].isupper() and lower not in FIRST_NAMES:
                break
            if not first and not word[0].isupper() and lower in _PARTICLES:
                continue
            last_end = start + m.start() + len(word)
            first = False
        if last_end is None:
            return None
        return start, last_end


class GivenNameRecognizer(_TextRecognizer):
    """A capitalised common given name, with the capitalised words after it, is a PERSON.

    spaCy's small model labels many plain given names as ORG or GPE, or misses them
    ("Sandra has had a fever", "Ramesh needs a refill"): on templated patient messages it
    found a bare given name at the start of a sentence about half the time. The given-name
    lexicon is the evidence here; ``person_score`` still applies every medical filter
    ("Addison's disease", "Lou Gehrig's disease" and drug names stay unredacted).
    """

    _CAPITALISED = re.compile(r"(?<![\w'’\-])[A-Z][a-z]+(?:['’\-][A-Za-z]+)*")
    _NEXT = re.compile(r"[ \t]+([A-Z][a-z]+(?:['’\-][A-Za-z]+)*|[A-Z]\.)")

    def __init__(self, score: float = 0.85) -> None:
        super().__init__("PERSON", "GivenNameRecognizer", score)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if "PERSON" not in entities:
            return []
        results: list[RecognizerResult] = []
        cursor = 0
        for match in self._CAPITALISED.finditer(text):
            if match.start() < cursor:
                continue
            word = _POSSESSIVE.sub("", match.group(0)).lower()
            if word not in FIRST_NAMES:
                continue
            start, end = match.start(), match.start() + len(_POSSESSIVE.sub("", match.group(0)))
            for _ in range(2):  # middle name / surname
                if text[end : end + 1] in ("'", "’"):
                    break
                nxt = self._NEXT.match(text, end)
                if nxt is None:
                    break
                lower = _POSSESSIVE.sub("", nxt.group(1)).lower()
                if lower in _STOP_AFTER_NAME or lower in _TITLES or _is_medical_word(lower):
                    break
                end = nxt.start(1) + len(_POSSESSIVE.sub("", nxt.group(1)))
            cursor = end
            score = person_score(text, start, end, self._score)
            if score is not None:
                results.append(_result(self.name, "PERSON", start, end, score, "given name"))
        return results


# ------------------------------------------------------------------ medical identifiers

_SEP = (
    r"[ \t]*[:#=.\-–]?[ \t]*"
    r"(?:(?:is|was|number|num|no|nbr|id|of)\b\.?[ \t]*[:#=\-–]?[ \t]*){0,3}"
)
_DATE_SEP = r"[ \t]*[:#=,.\-–]?[ \t]*(?:(?:is|was|on|in|the|of)\b[ \t]*[:,\-–]?[ \t]*){0,3}"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?![\d/.\-]\d)"
    r"|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}(?!\d)"
    rf"|{_MONTH}[ \t]+\d{{1,2}}(?:st|nd|rd|th)?(?:,?[ \t]+\d{{4}})?(?!\d)"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?{_MONTH}(?:,?[ \t]+\d{{4}})?(?!\d)"
    rf"|{_MONTH},?[ \t]+\d{{4}}(?!\d))"
)
_I = re.IGNORECASE


def _digits_between(low: int, high: int) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        n = sum(ch.isdigit() for ch in value)
        return low <= n <= high

    return check


_MRN_CUE = (
    r"\b(?:MRN|M\.R\.N\.?|medical[ \t-]+record(?:s)?(?:[ \t-]+(?:number|no|num|nbr|#|id))?"
    r"|med[ \t-]+rec(?:ord)?|chart(?:[ \t-]+(?:number|no|num|#|id))?"
    r"|hospital[ \t-]+(?:number|no|id|#)|patient[ \t-]+(?:id|number|no|#)"
    r"|record[ \t-]+(?:number|no|#)|unit[ \t-]+number)"
)
_HEALTH_PLAN_CUE = (
    r"\b(?:(?:member(?:ship)?|subscriber|beneficiary|insurance|insured|policy(?:holder)?"
    r"|plan|group|medicare|medicaid|health[ \t-]+plan|health[ \t-]+insurance"
    r"|insurance[ \t-]+policy)(?:[ \t-]+(?:card))?[ \t-]*(?:id(?:entification)?|number|no\.?"
    r"|num|nbr|#)|MBI|HICN|member[ \t]+#)"
)

MRN_PATTERNS: tuple[CuePattern, ...] = (
    CuePattern(
        "mrn after cue",
        re.compile(_MRN_CUE + _SEP + r"(?P<value>(?:[A-Z]{1,4}-?)?\d[\d\-]{3,16}\d)(?![\w-])", _I),
        0.9,
        _digits_between(5, 15),
    ),
)
NPI_PATTERNS: tuple[CuePattern, ...] = (
    CuePattern(
        "npi after cue, checksum",
        re.compile(
            r"\b(?:NPI|national[ \t-]+provider(?:[ \t-]+(?:identifier|id|number|no))?)"
            + _SEP
            + r"(?P<value>\d{10}|\d{4}[ \-]\d{3}[ \-]\d{3}|\d{3}[ \-]\d{3}[ \-]\d{4})(?![\w-])",
            _I,
        ),
        0.95,
        npi_checksum_ok,
    ),
    CuePattern(
        "bare npi, checksum",
        re.compile(r"(?<![\w-])(?P<value>[12]\d{9})(?![\w-])"),
        0.3,
        npi_checksum_ok,
    ),
)
DEA_PATTERNS: tuple[CuePattern, ...] = (
    CuePattern(
        "dea after cue, checksum",
        re.compile(
            r"\bDEA(?:[ \t-]+(?:registration|reg\.?|certificate|license|licence))?"
            + _SEP
            + r"(?P<value>[A-Z][A-Z9][ \-]?\d{7})(?![\w-])",
            _I,
        ),
        0.95,
        dea_checksum_ok,
    ),
    CuePattern(
        "bare dea, checksum",
        re.compile(r"(?<![\w-])(?P<value>[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7})(?![\w-])"),
        0.6,
        dea_checksum_ok,
    ),
)
HEALTH_PLAN_PATTERNS: tuple[CuePattern, ...] = (
    CuePattern(
        "member or policy id after cue",
        re.compile(
            _HEALTH_PLAN_CUE
            + _SEP
            + r"(?P<value>(?=[A-Z0-9\-]*\d)[A-Z0-9][A-Z0-9\-]{3,22}[A-Z0-9])(?![\w-])",
            _I,
        ),
        0.85,
        _digits_between(3, 20),
    ),
)
DOB_PATTERNS: tuple[CuePattern, ...] = (
    CuePattern(
        "date after birth cue",
        re.compile(
            r"\b(?:DOB|D\.O\.B\.?|date[ \t-]+of[ \t-]+birth|birth[ \t-]?date|birthday|born)"
            + _DATE_SEP
            + r"(?P<value>"
            + _DATE
            + r")",
            _I,
        ),
        0.9,
    ),
)
_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl"
    r"|Terrace|Ter|Way|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl)"
)
ADDRESS_PATTERNS: tuple[CuePattern, ...] = (
    CuePattern(
        "street address",
        re.compile(
            r"(?<![\w-])(?P<value>\d{1,6}[A-Z]?[ \t]+(?:[NSEW]\.?[ \t]+)?"
            r"(?:[A-Z][A-Za-z'’\-]*[ \t]+){1,4}" + _STREET_SUFFIX + r"\b\.?"
            r"(?:,?[ \t]+(?:Apt|Apartment|Unit|Suite|Ste)\.?[ \t]*#?[A-Z0-9\-]+)?)"
        ),
        0.75,
    ),
)
_US_STATES = sorted(
    _wordset(
        "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE "
        "NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR"
    )
)
ZIP_PATTERNS: tuple[CuePattern, ...] = (
    CuePattern(
        "zip after cue",
        re.compile(
            r"\b(?:zip(?:[ \t-]*code)?|postal[ \t-]+code)"
            + _SEP
            + r"(?P<value>\d{5}(?:-\d{4})?)(?![\w-])",
            _I,
        ),
        0.85,
    ),
    CuePattern(
        "zip after state",
        re.compile(
            r"\b(?:" + "|".join(_US_STATES) + r"),?[ \t]+(?P<value>\d{5}(?:-\d{4})?)"
            r"(?![\w-])"
        ),
        0.7,
    ),
)


def medical_recognizers() -> list[EntityRecognizer]:
    """One recognizer per medical identifier, each named after its entity."""
    table: list[tuple[str, tuple[CuePattern, ...], str]] = [
        ("MRN", MRN_PATTERNS, "MrnRecognizer"),
        ("NPI", NPI_PATTERNS, "NpiRecognizer"),
        ("DEA_NUMBER", DEA_PATTERNS, "DeaRecognizer"),
        ("HEALTH_PLAN_ID", HEALTH_PLAN_PATTERNS, "HealthPlanIdRecognizer"),
        ("DATE_OF_BIRTH", DOB_PATTERNS, "DateOfBirthRecognizer"),
        ("STREET_ADDRESS", ADDRESS_PATTERNS, "StreetAddressRecognizer"),
        ("ZIP_CODE", ZIP_PATTERNS, "ZipCodeRecognizer"),
    ]
    return [CuePatternRecognizer(entity, patterns, name) for entity, patterns, name in table]
